package protoclient

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Parsers for the XML carried in message Content (§5.2, §5.4). The XML comes from
// phones of every version, is escaped once or twice, pretty-printed with `<br/>` and
// tabs, quotes attributes with ' or ", and sometimes declares a charset; so the decoder
// runs in non-strict mode and numbers are read leniently (a garbled number is a zero,
// not a failed message). What makes a parse fail is only the absence of the element
// that defines the message kind, or of the one field a caller cannot do without; each
// parser says which.

// prepareXML accepts a Content as delivered (escaped, possibly with a group-sender
// prefix) or XML that is already plain (OriContent, or Content a caller has unescaped),
// and returns XML text that starts at its first tag.
func prepareXML(content string) string {
	s := content
	if _, rest, ok := SplitGroupSender(s); ok {
		s = rest
	}
	t := strings.TrimLeft(s, " \t\r\n")
	for strings.HasPrefix(t, "<br/>") {
		t = strings.TrimLeft(t[len("<br/>"):], " \t\r\n")
	}
	// Already-plain XML must not be unescaped again: entities in its attribute values
	// would turn into bare quotes.
	if !strings.HasPrefix(t, "<") {
		t = UnescapeXML(t)
	}
	if i := strings.IndexByte(t, '<'); i > 0 {
		t = t[i:]
	}
	return t
}

func newXMLDecoder(s string) *xml.Decoder {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	// The text already came out of a UTF-8 JSON string whatever the declaration says.
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	return d
}

// decodeXML decodes the first element of content into v and returns that element's name.
func decodeXML(content string, v any) (string, error) {
	s := prepareXML(content)
	if !strings.HasPrefix(s, "<") {
		return "", fmt.Errorf("%w: no XML in content", ErrMalformed)
	}
	root, err := decodeFirst(s, v)
	if err != nil {
		// A document cut short after its last complete tag still says what it is.
		if closed, ok := closeOpenTags(s); ok {
			reflect.ValueOf(v).Elem().SetZero()
			if root2, err2 := decodeFirst(closed, v); err2 == nil {
				return root2, nil
			}
		}
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return root, nil
}

// closeOpenTags appends end tags for the elements still open where s ends; ok is false
// when s is broken in some other way (inside a tag, attribute or CDATA, or not at all).
func closeOpenTags(s string) (string, bool) {
	d := newXMLDecoder(s)
	var open []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) && se.Msg == "unexpected EOF" {
			break
		}
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			open = append(open, t.Name.Local)
		case xml.EndElement:
			if n := len(open); n > 0 {
				open = open[:n-1]
			}
		}
	}
	if len(open) == 0 {
		return "", false
	}
	var b strings.Builder
	b.WriteString(s)
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString("</" + open[i] + ">")
	}
	return b.String(), true
}

func decodeFirst(s string, v any) (string, error) {
	d := newXMLDecoder(s)
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		if se, ok := tok.(xml.StartElement); ok {
			if err := d.DecodeElement(v, &se); err != nil {
				return "", err
			}
			return se.Name.Local, nil
		}
	}
}

func atoi(s string) int {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
		return 0
	}
	return int(n)
}

func atoi64(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func trim(s string) string { return strings.TrimSpace(s) }

// ---------------------------------------------------------------------------------------
// App messages (MsgType 49, §5.3, §5.4.9)

// AppAttach describes the file of an attachment app message (AppMsgType 6).
type AppAttach struct {
	TotalLen     int64
	AttachID     string
	FileExt      string
	CDNAttachURL string
	AESKey       string
	EmoticonMD5  string
	EncryVer     int
}

// WeAppInfo describes a mini program (AppMsgType 33/36).
type WeAppInfo struct {
	PagePath       string
	UserName       string
	AppID          string
	AppServiceType int
}

// ArticleItem is one article of an official-account article list (`<mmreader>`).
type ArticleItem struct {
	Title   string
	URL     string
	Digest  string
	Cover   string
	PubTime int64
}

// ReferMsg is the quoted message of a structured reply (AppMsgType 57). The web protocol
// is not known to deliver these (§5.3), but phones' XML may carry them.
type ReferMsg struct {
	Type        int
	SvrID       string // the quoted message's MsgId
	FromUsr     string
	ChatUsr     string
	DisplayName string
	Content     string // as the server put it; may itself be escaped XML
	CreateTime  int64
}

// AppMsg is the parsed XML of an app message.
type AppMsg struct {
	AppID             string
	Title             string
	Des               string
	Action            string
	Type              int
	ShowType          int
	Content           string
	URL               string
	LowURL            string
	DataURL           string
	LowDataURL        string
	ThumbURL          string
	RecordItem        string // merged-forward chat history, itself XML
	SourceUserName    string
	SourceDisplayName string
	MD5               string
	AppAttach         AppAttach
	WeAppInfo         WeAppInfo
	Articles          []ArticleItem // official-account article lists
	ReferMsg          *ReferMsg     // AppMsgType 57 only
	FromUserName      string        // msg/fromusername: the permanent id of the sender, when given
	Scene             int
	AppName           string // msg/appinfo/appname, e.g. 微信电脑版
	AppVersion        int
}

type xmlAppMsg struct {
	AppMsg *struct {
		AppID             string `xml:"appid,attr"`
		Title             string `xml:"title"`
		Des               string `xml:"des"`
		Action            string `xml:"action"`
		Type              string `xml:"type"`
		ShowType          string `xml:"showtype"`
		Content           string `xml:"content"`
		URL               string `xml:"url"`
		LowURL            string `xml:"lowurl"`
		DataURL           string `xml:"dataurl"`
		LowDataURL        string `xml:"lowdataurl"`
		ThumbURL          string `xml:"thumburl"`
		RecordItem        string `xml:"recorditem"`
		SourceUserName    string `xml:"sourceusername"`
		SourceDisplayName string `xml:"sourcedisplayname"`
		MD5               string `xml:"md5"`
		AppAttach         struct {
			TotalLen     string `xml:"totallen"`
			AttachID     string `xml:"attachid"`
			EmoticonMD5  string `xml:"emoticonmd5"`
			FileExt      string `xml:"fileext"`
			CDNAttachURL string `xml:"cdnattachurl"`
			AESKey       string `xml:"aeskey"`
			EncryVer     string `xml:"encryver"`
		} `xml:"appattach"`
		WeAppInfo struct {
			PagePath       string `xml:"pagepath"`
			UserName       string `xml:"username"`
			AppID          string `xml:"appid"`
			AppServiceType string `xml:"appservicetype"`
		} `xml:"weappinfo"`
		MMReader struct {
			Items []struct {
				Title   string `xml:"title"`
				URL     string `xml:"url"`
				Digest  string `xml:"digest"`
				Cover   string `xml:"cover"`
				PubTime string `xml:"pub_time"`
			} `xml:"category>item"`
		} `xml:"mmreader"`
		ReferMsg *struct {
			Type        string `xml:"type"`
			SvrID       string `xml:"svrid"`
			FromUsr     string `xml:"fromusr"`
			ChatUsr     string `xml:"chatusr"`
			DisplayName string `xml:"displayname"`
			Content     string `xml:"content"`
			CreateTime  string `xml:"createtime"`
		} `xml:"refermsg"`
	} `xml:"appmsg"`
	FromUserName string `xml:"fromusername"`
	Scene        string `xml:"scene"`
	AppInfo      struct {
		Version string `xml:"version"`
		AppName string `xml:"appname"`
	} `xml:"appinfo"`
}

// ParseAppMsg parses the XML of an app message (MsgType 49). Content may be passed as
// delivered (escaped, with or without a group-sender prefix) or unescaped. It fails when
// there is no `<msg><appmsg>`.
func ParseAppMsg(content string) (*AppMsg, error) {
	var x xmlAppMsg
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("appmsg: %w", err)
	}
	if root != "msg" || x.AppMsg == nil {
		return nil, fmt.Errorf("appmsg: %w: no <msg><appmsg> (root <%s>)", ErrMalformed, root)
	}
	a := x.AppMsg
	m := &AppMsg{
		AppID:             trim(a.AppID),
		Title:             a.Title,
		Des:               a.Des,
		Action:            trim(a.Action),
		Type:              atoi(a.Type),
		ShowType:          atoi(a.ShowType),
		Content:           a.Content,
		URL:               trim(a.URL),
		LowURL:            trim(a.LowURL),
		DataURL:           trim(a.DataURL),
		LowDataURL:        trim(a.LowDataURL),
		ThumbURL:          trim(a.ThumbURL),
		RecordItem:        a.RecordItem,
		SourceUserName:    trim(a.SourceUserName),
		SourceDisplayName: a.SourceDisplayName,
		MD5:               trim(a.MD5),
		AppAttach: AppAttach{
			TotalLen:     atoi64(a.AppAttach.TotalLen),
			AttachID:     trim(a.AppAttach.AttachID),
			FileExt:      trim(a.AppAttach.FileExt),
			CDNAttachURL: trim(a.AppAttach.CDNAttachURL),
			AESKey:       trim(a.AppAttach.AESKey),
			EmoticonMD5:  trim(a.AppAttach.EmoticonMD5),
			EncryVer:     atoi(a.AppAttach.EncryVer),
		},
		WeAppInfo: WeAppInfo{
			PagePath:       trim(a.WeAppInfo.PagePath),
			UserName:       trim(a.WeAppInfo.UserName),
			AppID:          trim(a.WeAppInfo.AppID),
			AppServiceType: atoi(a.WeAppInfo.AppServiceType),
		},
		FromUserName: trim(x.FromUserName),
		Scene:        atoi(x.Scene),
		AppName:      trim(x.AppInfo.AppName),
		AppVersion:   atoi(x.AppInfo.Version),
	}
	for _, it := range a.MMReader.Items {
		m.Articles = append(m.Articles, ArticleItem{
			Title:   trim(it.Title),
			URL:     trim(it.URL),
			Digest:  trim(it.Digest),
			Cover:   trim(it.Cover),
			PubTime: atoi64(it.PubTime),
		})
	}
	if r := a.ReferMsg; r != nil {
		m.ReferMsg = &ReferMsg{
			Type:        atoi(r.Type),
			SvrID:       trim(r.SvrID),
			FromUsr:     trim(r.FromUsr),
			ChatUsr:     trim(r.ChatUsr),
			DisplayName: r.DisplayName,
			Content:     r.Content,
			CreateTime:  atoi64(r.CreateTime),
		}
	}
	return m, nil
}

// ---------------------------------------------------------------------------------------
// System messages (MsgType 10002 revokes, 10000 XML variants)

// Revoke is the parsed `<sysmsg type="revokemsg">` of a MsgType 10002 message (§5.4.5).
type Revoke struct {
	Session    string // permanent id of the chat: wxid_… or <digits>@chatroom
	OldMsgID   string // legacy 32-bit id
	MsgID      string // MsgId of the revoked message; "0" means "self's last message in Session"
	ReplaceMsg string // display text, e.g. "xx" 撤回了一条消息
}

type xmlSysMsg struct {
	Type      string `xml:"type,attr"`
	RevokeMsg *struct {
		Session    string `xml:"session"`
		OldMsgID   string `xml:"oldmsgid"`
		MsgID      string `xml:"msgid"`
		ReplaceMsg string `xml:"replacemsg"`
	} `xml:"revokemsg"`
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseRevoke parses a revoke notice. It fails unless the content is a
// `<sysmsg type="revokemsg">` whose `<msgid>` is a decimal number.
func ParseRevoke(content string) (*Revoke, error) {
	var x xmlSysMsg
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("revoke: %w", err)
	}
	if root != "sysmsg" || x.RevokeMsg == nil {
		return nil, fmt.Errorf("revoke: %w: no <sysmsg><revokemsg> (root <%s>)", ErrMalformed, root)
	}
	r := &Revoke{
		Session:    trim(x.RevokeMsg.Session),
		OldMsgID:   trim(x.RevokeMsg.OldMsgID),
		MsgID:      trim(x.RevokeMsg.MsgID),
		ReplaceMsg: trim(x.RevokeMsg.ReplaceMsg),
	}
	if !isDigits(r.MsgID) {
		return nil, fmt.Errorf("revoke: %w: msgid %q is not a number", ErrMalformed, truncate(r.MsgID, 40))
	}
	return r, nil
}

// ParseSysMsgType returns the type attribute of a `<sysmsg>` content ("revokemsg",
// "pat", "sysmsgtemplate", …, §5.4.8), so a caller can route it; ok is false when the
// content is not a sysmsg (most MsgType 10000 contents are plain text).
func ParseSysMsgType(content string) (typ string, ok bool) {
	s := prepareXML(content)
	if !strings.HasPrefix(s, "<") {
		return "", false
	}
	d := newXMLDecoder(s)
	for {
		tok, err := d.Token()
		if err != nil {
			return "", false
		}
		if se, isStart := tok.(xml.StartElement); isStart {
			if se.Name.Local != "sysmsg" {
				return "", false
			}
			for _, a := range se.Attr {
				if a.Name.Local == "type" {
					return trim(a.Value), true
				}
			}
			return "", true
		}
	}
}

// ---------------------------------------------------------------------------------------
// Status notify (MsgType 51, §5.4.7)

// UnreadChat is an entry of the `<unreadchatlist>` of a status-notify op.
type UnreadChat struct {
	UserName     string
	LastReadTime int64
}

// StatusNotifyOp is the parsed `<msg><op id='N'>` content of a MsgType 51 message.
type StatusNotifyOp struct {
	ID int
	// UserNames is the comma-split `<username>` list: permanent ids (wxid_…,
	// …@chatroom, filehelper) in the order of StatusNotifyUserName. Positions are kept,
	// empty entries included, except a trailing empty one from a final comma.
	UserNames  []string
	UnreadChat []UnreadChat
}

type xmlStatusNotify struct {
	Op *struct {
		ID       string `xml:"id,attr"`
		UserName string `xml:"username"`
		Unread   []struct {
			UserName     string `xml:"username"`
			LastReadTime string `xml:"lastreadtime"`
		} `xml:"unreadchatlist>chat"`
	} `xml:"op"`
}

// splitList splits a comma-joined list, trimming spaces and a final empty entry.
func splitList(s string) []string {
	s = trim(s)
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = trim(parts[i])
	}
	// The server ends the list with a comma; more trailing commas name nobody either.
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// ParseStatusNotifyOp parses the content of a MsgType 51 message. It fails when there
// is no `<msg><op>` element or its id is not a number; the empty Content of most
// codes is an error too, which callers of codes other than 4 can ignore.
func ParseStatusNotifyOp(content string) (*StatusNotifyOp, error) {
	var x xmlStatusNotify
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("status notify: %w", err)
	}
	if root != "msg" || x.Op == nil {
		return nil, fmt.Errorf("status notify: %w: no <msg><op> (root <%s>)", ErrMalformed, root)
	}
	id, err := strconv.Atoi(trim(x.Op.ID))
	if err != nil {
		return nil, fmt.Errorf("status notify: %w: op id %q", ErrMalformed, truncate(x.Op.ID, 20))
	}
	op := &StatusNotifyOp{ID: id, UserNames: splitList(x.Op.UserName)}
	for _, c := range x.Op.Unread {
		op.UnreadChat = append(op.UnreadChat, UnreadChat{
			UserName:     trim(c.UserName),
			LastReadTime: atoi64(c.LastReadTime),
		})
	}
	return op, nil
}

// PairStatusNotify maps each session UserName of a code-4 (SYNC_CONV) status notify to
// the permanent id at the same position in the content's `<username>` list — the one
// place the web protocol reveals wxid_…/…@chatroom ids for ordinary chats (§6.4). The
// two lists must have the same length: when they do not, the positions cannot be
// trusted and an error is returned rather than a map that could put a contact's
// messages into someone else's room. Positions where either side is empty are skipped.
func PairStatusNotify(msg Message) (map[string]WxID, error) {
	if msg.MsgType != MsgStatusNotify {
		return nil, fmt.Errorf("status notify: message type %d is not %d", msg.MsgType, MsgStatusNotify)
	}
	op, err := ParseStatusNotifyOp(msg.Content)
	if err != nil {
		return nil, err
	}
	sessions := splitList(msg.StatusNotifyUserName)
	if len(sessions) != len(op.UserNames) {
		return nil, fmt.Errorf("status notify: %w: %d session names but %d permanent ids",
			ErrMalformed, len(sessions), len(op.UserNames))
	}
	out := make(map[string]WxID, len(sessions))
	for i, s := range sessions {
		id := WxID(op.UserNames[i])
		if s == "" || id == "" {
			continue
		}
		if prev, dup := out[s]; dup && prev != id {
			return nil, fmt.Errorf("status notify: %w: %s paired with both %s and %s",
				ErrMalformed, s, prev, id)
		}
		out[s] = id
	}
	return out, nil
}

// ---------------------------------------------------------------------------------------
// Locations (MsgType 1 with SubMsgType 48, §5.2, §9.11)

// Location is a shared location. The XML's x is the latitude and y the longitude.
type Location struct {
	Lat     float64
	Lng     float64
	Scale   int
	Label   string
	PoiName string
	PoiID   string
}

type xmlLocation struct {
	Location *struct {
		X       string `xml:"x,attr"`
		Y       string `xml:"y,attr"`
		Scale   string `xml:"scale,attr"`
		Label   string `xml:"label,attr"`
		PoiName string `xml:"poiname,attr"`
		PoiID   string `xml:"poiid,attr"`
	} `xml:"location"`
}

func parseCoord(s string, limit float64) (float64, bool) {
	v, err := strconv.ParseFloat(trim(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < -limit || v > limit {
		return 0, false
	}
	return v, true
}

// ParseLocation parses the OriContent of a location message (plain or escaped XML). It
// fails unless there is a `<location>` with a latitude in [-90, 90] and a longitude in
// [-180, 180].
func ParseLocation(oriContent string) (*Location, error) {
	var x xmlLocation
	root, err := decodeXML(oriContent, &x)
	if err != nil {
		return nil, fmt.Errorf("location: %w", err)
	}
	if root != "msg" || x.Location == nil {
		return nil, fmt.Errorf("location: %w: no <msg><location> (root <%s>)", ErrMalformed, root)
	}
	l := x.Location
	lat, ok1 := parseCoord(l.X, 90)
	lng, ok2 := parseCoord(l.Y, 180)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("location: %w: bad coordinates x=%q y=%q", ErrMalformed, truncate(l.X, 30), truncate(l.Y, 30))
	}
	return &Location{
		Lat:     lat,
		Lng:     lng,
		Scale:   atoi(l.Scale),
		Label:   trim(l.Label),
		PoiName: trim(l.PoiName),
		PoiID:   trim(l.PoiID),
	}, nil
}

// LocationText splits the Content of a MsgType 1 / SubMsgType 48 message,
// `<label>:<br/><map image path>` (group sender prefix already removed), into the decoded
// label and the map-image URL path. ok is false when the shape does not match.
func LocationText(content string) (label, imagePath string, ok bool) {
	const sep = ":<br/>"
	i := strings.LastIndex(content, sep)
	if i < 0 {
		return "", "", false
	}
	// Only &amp; is undone: a full HTML unescape would read "&para=" or "&not=" in a
	// query string as the legacy entities ¶ and ¬.
	path := trim(strings.ReplaceAll(content[i+len(sep):], "&amp;", "&"))
	if !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "http") {
		return "", "", false
	}
	return DecodeText(content[:i]), path, true
}

// ---------------------------------------------------------------------------------------
// Contact cards (MsgType 42) and friend requests (MsgType 37)

// Card is a shared contact card. UserName is the permanent id (wxid_…) or, for
// strangers, an encrypted v1_…@stranger name.
type Card struct {
	UserName        string
	NickName        string
	Alias           string
	Province        string
	City            string
	Sex             int
	Sign            string
	BigHeadImgURL   string
	SmallHeadImgURL string
	Scene           int
	CertFlag        int
	RegionCode      string
}

type xmlCard struct {
	UserName        string `xml:"username,attr"`
	NickName        string `xml:"nickname,attr"`
	Alias           string `xml:"alias,attr"`
	Province        string `xml:"province,attr"`
	City            string `xml:"city,attr"`
	Sex             string `xml:"sex,attr"`
	Sign            string `xml:"sign,attr"`
	BigHeadImgURL   string `xml:"bigheadimgurl,attr"`
	SmallHeadImgURL string `xml:"smallheadimgurl,attr"`
	Scene           string `xml:"scene,attr"`
	CertFlag        string `xml:"certflag,attr"`
	RegionCode      string `xml:"regionCode,attr"`
}

// ParseCard parses the content of a contact card. It fails unless the root `<msg>`
// carries a username.
func ParseCard(content string) (*Card, error) {
	var x xmlCard
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("card: %w", err)
	}
	if root != "msg" || trim(x.UserName) == "" {
		return nil, fmt.Errorf("card: %w: no username (root <%s>)", ErrMalformed, root)
	}
	return &Card{
		UserName:        trim(x.UserName),
		NickName:        x.NickName,
		Alias:           trim(x.Alias),
		Province:        trim(x.Province),
		City:            trim(x.City),
		Sex:             atoi(x.Sex),
		Sign:            x.Sign,
		BigHeadImgURL:   trim(x.BigHeadImgURL),
		SmallHeadImgURL: trim(x.SmallHeadImgURL),
		Scene:           atoi(x.Scene),
		CertFlag:        atoi(x.CertFlag),
		RegionCode:      trim(x.RegionCode),
	}, nil
}

// FriendRequest is a parsed friend request. Accepting it needs the session UserName and
// Ticket of Message.RecommendInfo; the XML adds the permanent id and where the requester
// came from.
type FriendRequest struct {
	FromUserName     string // permanent id, wxid_…
	EncryptUserName  string // v1_…@stranger
	FromNickName     string
	Content          string // the greeting
	Ticket           string // v2_…@stranger
	Scene            int
	OpCode           int
	Alias            string
	ChatRoomUserName string // the group the requester found you in, …@chatroom
	Sign             string
	BigHeadImgURL    string
	SmallHeadImgURL  string
	Province         string
	City             string
	Sex              int
}

type xmlFriendRequest struct {
	FromUserName     string `xml:"fromusername,attr"`
	EncryptUserName  string `xml:"encryptusername,attr"`
	FromNickName     string `xml:"fromnickname,attr"`
	Content          string `xml:"content,attr"`
	Ticket           string `xml:"ticket,attr"`
	Scene            string `xml:"scene,attr"`
	OpCode           string `xml:"opcode,attr"`
	Alias            string `xml:"alias,attr"`
	ChatRoomUserName string `xml:"chatroomusername,attr"`
	Sign             string `xml:"sign,attr"`
	BigHeadImgURL    string `xml:"bigheadimgurl,attr"`
	SmallHeadImgURL  string `xml:"smallheadimgurl,attr"`
	Province         string `xml:"province,attr"`
	City             string `xml:"city,attr"`
	Sex              string `xml:"sex,attr"`
}

// ParseFriendRequest parses the content of a friend request (MsgType 37). It fails
// unless the root `<msg>` names the requester by fromusername or encryptusername.
func ParseFriendRequest(content string) (*FriendRequest, error) {
	var x xmlFriendRequest
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("friend request: %w", err)
	}
	if root != "msg" || (trim(x.FromUserName) == "" && trim(x.EncryptUserName) == "") {
		return nil, fmt.Errorf("friend request: %w: no requester (root <%s>)", ErrMalformed, root)
	}
	return &FriendRequest{
		FromUserName:     trim(x.FromUserName),
		EncryptUserName:  trim(x.EncryptUserName),
		FromNickName:     x.FromNickName,
		Content:          x.Content,
		Ticket:           trim(x.Ticket),
		Scene:            atoi(x.Scene),
		OpCode:           atoi(x.OpCode),
		Alias:            trim(x.Alias),
		ChatRoomUserName: trim(x.ChatRoomUserName),
		Sign:             x.Sign,
		BigHeadImgURL:    trim(x.BigHeadImgURL),
		SmallHeadImgURL:  trim(x.SmallHeadImgURL),
		Province:         trim(x.Province),
		City:             trim(x.City),
		Sex:              atoi(x.Sex),
	}, nil
}

// ---------------------------------------------------------------------------------------
// Media messages (MsgType 3, 34, 43/62, 47)

// ImageMsg is the XML of an image message. Some versions send an opaque `@…` string
// instead (§5.2); that is an error here, and the image is still downloadable by MsgId.
type ImageMsg struct {
	AESKey         string
	EncryVer       int
	CDNThumbAESKey string
	CDNThumbURL    string
	CDNThumbLength int64
	CDNThumbWidth  int
	CDNThumbHeight int
	CDNMidImgURL   string
	CDNBigImgURL   string
	Length         int64
	HDLength       int64
	MD5            string
}

type xmlImage struct {
	Img *struct {
		AESKey         string `xml:"aeskey,attr"`
		EncryVer       string `xml:"encryver,attr"`
		CDNThumbAESKey string `xml:"cdnthumbaeskey,attr"`
		CDNThumbURL    string `xml:"cdnthumburl,attr"`
		CDNThumbLength string `xml:"cdnthumblength,attr"`
		CDNThumbWidth  string `xml:"cdnthumbwidth,attr"`
		CDNThumbHeight string `xml:"cdnthumbheight,attr"`
		CDNMidImgURL   string `xml:"cdnmidimgurl,attr"`
		CDNBigImgURL   string `xml:"cdnbigimgurl,attr"`
		Length         string `xml:"length,attr"`
		HDLength       string `xml:"hdlength,attr"`
		MD5            string `xml:"md5,attr"`
	} `xml:"img"`
}

// ParseImageMsg parses the content of an image message; it fails without `<msg><img>`.
func ParseImageMsg(content string) (*ImageMsg, error) {
	var x xmlImage
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	if root != "msg" || x.Img == nil {
		return nil, fmt.Errorf("image: %w: no <msg><img> (root <%s>)", ErrMalformed, root)
	}
	i := x.Img
	return &ImageMsg{
		AESKey:         trim(i.AESKey),
		EncryVer:       atoi(i.EncryVer),
		CDNThumbAESKey: trim(i.CDNThumbAESKey),
		CDNThumbURL:    trim(i.CDNThumbURL),
		CDNThumbLength: atoi64(i.CDNThumbLength),
		CDNThumbWidth:  atoi(i.CDNThumbWidth),
		CDNThumbHeight: atoi(i.CDNThumbHeight),
		CDNMidImgURL:   trim(i.CDNMidImgURL),
		CDNBigImgURL:   trim(i.CDNBigImgURL),
		Length:         atoi64(i.Length),
		HDLength:       atoi64(i.HDLength),
		MD5:            trim(i.MD5),
	}, nil
}

// VoiceMsg is the XML of a voice message.
type VoiceMsg struct {
	VoiceLength  int64 // milliseconds
	Length       int64 // bytes
	VoiceFormat  int
	EndFlag      int
	CancelFlag   int
	BufID        string
	ClientMsgID  string
	FromUserName string // permanent id of the sender
}

type xmlVoice struct {
	Voice *struct {
		VoiceLength  string `xml:"voicelength,attr"`
		Length       string `xml:"length,attr"`
		VoiceFormat  string `xml:"voiceformat,attr"`
		EndFlag      string `xml:"endflag,attr"`
		CancelFlag   string `xml:"cancelflag,attr"`
		BufID        string `xml:"bufid,attr"`
		ClientMsgID  string `xml:"clientmsgid,attr"`
		FromUserName string `xml:"fromusername,attr"`
	} `xml:"voicemsg"`
}

// ParseVoiceMsg parses the content of a voice message; it fails without
// `<msg><voicemsg>`.
func ParseVoiceMsg(content string) (*VoiceMsg, error) {
	var x xmlVoice
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	if root != "msg" || x.Voice == nil {
		return nil, fmt.Errorf("voice: %w: no <msg><voicemsg> (root <%s>)", ErrMalformed, root)
	}
	v := x.Voice
	return &VoiceMsg{
		VoiceLength:  atoi64(v.VoiceLength),
		Length:       atoi64(v.Length),
		VoiceFormat:  atoi(v.VoiceFormat),
		EndFlag:      atoi(v.EndFlag),
		CancelFlag:   atoi(v.CancelFlag),
		BufID:        trim(v.BufID),
		ClientMsgID:  trim(v.ClientMsgID),
		FromUserName: trim(v.FromUserName),
	}, nil
}

// VideoMsg is the XML of a video message (MsgType 43 and 62).
type VideoMsg struct {
	AESKey         string
	CDNVideoURL    string
	CDNThumbURL    string
	CDNThumbAESKey string
	Length         int64 // bytes
	PlayLength     int64 // seconds
	CDNThumbLength int64
	CDNThumbWidth  int
	CDNThumbHeight int
	FromUserName   string
	MD5            string
	NewMD5         string
	IsAd           bool
}

type xmlVideo struct {
	Video *struct {
		AESKey         string `xml:"aeskey,attr"`
		CDNVideoURL    string `xml:"cdnvideourl,attr"`
		CDNThumbURL    string `xml:"cdnthumburl,attr"`
		CDNThumbAESKey string `xml:"cdnthumbaeskey,attr"`
		Length         string `xml:"length,attr"`
		PlayLength     string `xml:"playlength,attr"`
		CDNThumbLength string `xml:"cdnthumblength,attr"`
		CDNThumbWidth  string `xml:"cdnthumbwidth,attr"`
		CDNThumbHeight string `xml:"cdnthumbheight,attr"`
		FromUserName   string `xml:"fromusername,attr"`
		MD5            string `xml:"md5,attr"`
		NewMD5         string `xml:"newmd5,attr"`
		IsAd           string `xml:"isad,attr"`
	} `xml:"videomsg"`
}

// ParseVideoMsg parses the content of a video message; it fails without
// `<msg><videomsg>` (the opaque `@hex` form of some versions included).
func ParseVideoMsg(content string) (*VideoMsg, error) {
	var x xmlVideo
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	if root != "msg" || x.Video == nil {
		return nil, fmt.Errorf("video: %w: no <msg><videomsg> (root <%s>)", ErrMalformed, root)
	}
	v := x.Video
	return &VideoMsg{
		AESKey:         trim(v.AESKey),
		CDNVideoURL:    trim(v.CDNVideoURL),
		CDNThumbURL:    trim(v.CDNThumbURL),
		CDNThumbAESKey: trim(v.CDNThumbAESKey),
		Length:         atoi64(v.Length),
		PlayLength:     atoi64(v.PlayLength),
		CDNThumbLength: atoi64(v.CDNThumbLength),
		CDNThumbWidth:  atoi(v.CDNThumbWidth),
		CDNThumbHeight: atoi(v.CDNThumbHeight),
		FromUserName:   trim(v.FromUserName),
		MD5:            trim(v.MD5),
		NewMD5:         trim(v.NewMD5),
		IsAd:           atoi(v.IsAd) != 0,
	}, nil
}

// EmojiMsg is the XML of a sticker (MsgType 47).
type EmojiMsg struct {
	FromUserName string
	ToUserName   string
	Type         int // 2 = GIF/image sticker
	MD5          string
	Len          int64
	ProductID    string // non-empty for store stickers
	CDNURL       string
	ThumbURL     string
	EncryptURL   string
	AESKey       string
	ExternURL    string
	ExternMD5    string
	Width        int
	Height       int
}

type xmlEmoji struct {
	Emoji *struct {
		FromUserName string `xml:"fromusername,attr"`
		ToUserName   string `xml:"tousername,attr"`
		Type         string `xml:"type,attr"`
		MD5          string `xml:"md5,attr"`
		Len          string `xml:"len,attr"`
		ProductID    string `xml:"productid,attr"`
		CDNURL       string `xml:"cdnurl,attr"`
		ThumbURL     string `xml:"thumburl,attr"`
		EncryptURL   string `xml:"encrypturl,attr"`
		AESKey       string `xml:"aeskey,attr"`
		ExternURL    string `xml:"externurl,attr"`
		ExternMD5    string `xml:"externmd5,attr"`
		Width        string `xml:"width,attr"`
		Height       string `xml:"height,attr"`
	} `xml:"emoji"`
}

// ParseEmojiMsg parses the content of a sticker message; it fails without
// `<msg><emoji>` (copyrighted stickers arrive with an empty Content).
func ParseEmojiMsg(content string) (*EmojiMsg, error) {
	var x xmlEmoji
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("emoticon: %w", err)
	}
	if root != "msg" || x.Emoji == nil {
		return nil, fmt.Errorf("emoticon: %w: no <msg><emoji> (root <%s>)", ErrMalformed, root)
	}
	e := x.Emoji
	return &EmojiMsg{
		FromUserName: trim(e.FromUserName),
		ToUserName:   trim(e.ToUserName),
		Type:         atoi(e.Type),
		MD5:          trim(e.MD5),
		Len:          atoi64(e.Len),
		ProductID:    trim(e.ProductID),
		CDNURL:       trim(e.CDNURL),
		ThumbURL:     trim(e.ThumbURL),
		EncryptURL:   trim(e.EncryptURL),
		AESKey:       trim(e.AESKey),
		ExternURL:    trim(e.ExternURL),
		ExternMD5:    trim(e.ExternMD5),
		Width:        atoi(e.Width),
		Height:       atoi(e.Height),
	}, nil
}
