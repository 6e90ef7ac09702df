package protoclient

import (
	"cmp"
	"html"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Typed events: every message of a webwxsync batch is decoded here, once, into where it
// belongs (MessageInfo) and what it says (a Content). Callers switch on the Content's
// type and never read wire text: names and text are decoded, the group sender prefix is
// gone, and the XML of each kind is parsed into the few fields a client shows. Decoding
// is lenient by design: content that does not read becomes *Undecodable with the raw
// text, so nothing is dropped and no message fails its batch.

// Event is one decoded message.
type Event struct {
	Info    MessageInfo
	Content Content
}

// MessageInfo is where a message belongs and who sent it (§5.4.2).
type MessageInfo struct {
	// ID is the MsgId: what a revoke, a quote and the dedup of redeliveries refer to.
	ID string
	// Type is the wire MsgType, for logs; the Content says what the message is.
	Type MsgType
	// Chat is the chat's UserName: the group, the contact, or for what the user sent
	// (from the phone, or the client's own echo) the recipient.
	Chat UserName
	// Sender is who wrote it: the contact, the group member of the content's
	// "@member:<br/>" prefix, or the user; "" for a group's system text.
	Sender UserName
	// FromMe: the user sent it, from this client or from the phone.
	FromMe bool
	// Group: Chat is a group.
	Group bool
	// Time is when WeChat says it was sent (CreateTime, whole seconds).
	Time time.Time
}

// Content is what a message says: one of the pointer types below.
type Content interface{ isContent() }

// Text is a text message, decoded (line breaks, emoji, entities). Mentions stay "@Name"
// in the text (§5.4.3): only the chat's member list can tell which names they are.
type Text struct{ Text string }

// Reply is a message quoting an earlier one: the phones' quote text (§5.4.6) or a
// structured reply (AppMsgType 57).
type Reply struct {
	// Name is the quoted message's sender as the quote shows them.
	Name string
	// Quoted is the quoted text (as the phone abbreviated it), or for a structured reply
	// of another kind its title; "" when it has none.
	Quoted string
	// QuotedType and QuotedAppType say what kind the quoted message was; QuotedType is 0
	// for a quote text, which quotes text.
	QuotedType    MsgType
	QuotedAppType AppMsgType
	// QuotedMsgID is the quoted message's MsgId; only structured replies carry it.
	QuotedMsgID string
	// Text is what the sender wrote.
	Text string
}

// Image (MsgType 3). Size is what the XML announced (0 when it did not); Width and
// Height are the message's, which are the thumbnail's: the image itself says better.
type Image struct {
	Size          int64
	Width, Height int
}

// Voice (MsgType 34), served as MP3.
type Voice struct {
	DurationMS int64
	Size       int64
}

// Video (MsgType 43, 62).
type Video struct {
	Seconds       int64
	Width, Height int
	Size          int64
}

// Sticker (MsgType 47 and AppMsgType 8). Unavailable: a store or copyrighted sticker,
// which the web cannot download.
type Sticker struct {
	Unavailable   bool
	Width, Height int
}

// File is an attachment (AppMsgType 6); DownloadFile fetches it.
type File struct {
	// Name is as the sender gave it, decoded: not a safe path.
	Name string
	Size int64

	sender        UserName
	mediaID       string
	encryFileName string
}

// Link is a link, music, video link or mini program card (AppMsgType 5, 3, 4, 33, 36).
type Link struct {
	Type AppMsgType
	// Title is the card's title, else the message's file name.
	Title       string
	Description string
	// URL is the card's link from its XML, PageURL the message's Url field: either may be
	// empty, and neither is checked for a safe scheme.
	URL, PageURL string
	// AudioURL is the stream of a music card.
	AudioURL string
	// Source is the name of the app or mini program that made the card.
	Source string
	// Articles are an official account's article list, when there are several.
	Articles []ArticleItem
}

// App is any other app message (AppMsgType 49): money (transfers, red packets), a
// forwarded chat history (19, or 0 with XML), or a kind the bridge does not show.
type App struct {
	Type AppMsgType
	// Parsed: the XML could be read; Title and Description come from it.
	Parsed      bool
	Title       string
	Description string
	// FileName is the message's FileName field, decoded.
	FileName string
}

// Location is a shared location (MsgType 1/SubMsgType 48, 48) or the start of a live
// location share (AppMsgType 17). The coordinates are WeChat's (GCJ-02 inside mainland
// China), passed on as they are.
type Location struct {
	// HasCoords: Lat and Lng are valid; without them only Label may be known.
	HasCoords bool
	Lat, Lng  float64
	Scale     int
	Label     string
	PoiName   string
	PoiID     string
	// Live marks a live location share, Title its card title.
	Live  bool
	Title string
}

// Card is a shared contact card (MsgType 42). WeChatID is what a person can search for:
// the alias, else the wxid; never a v1_…@stranger name.
type Card struct {
	Name     string
	WeChatID string
}

// System is a system text (MsgType 10000). Kind is the `<sysmsg type>` of an XML one
// ("pat", "sysmsgtemplate", "revokemsg", …) and "" for plain text; Text is the text,
// rendered from the template for XML ones, "" when there was nothing to render.
type System struct {
	Kind string
	Text string
}

// Revoke is a recall (MsgType 10002). MsgID is the recalled message, "" when WeChat
// named none ("the sender's last message", msgid 0) or the XML did not read; Text is
// what WeChat says about it ("Alice" 撤回了一条消息).
type Revoke struct {
	MsgID string
	Text  string
}

// FriendRequest is a friend request (MsgType 37). UserName and Ticket are what
// accepting takes (webwxverifyuser Opcode 3, §4.17); UserName is a session name, so a
// request must be accepted in the session that received it.
type FriendRequest struct {
	UserName UserName
	Ticket   string
	// WxID is the requester's permanent id, when the XML gives it; EncryptUserName
	// their v1_…@stranger name.
	WxID            WxID
	EncryptUserName string
	NickName        string
	Alias           string
	Greeting        string
	// ChatRoom is the group the requester found the user in.
	ChatRoom WxID
}

// CanAccept reports whether the request carries what webwxverifyuser needs.
func (f *FriendRequest) CanAccept() bool { return f.UserName != "" && f.Ticket != "" }

// IDList is a status notify of code 4 (SYNC_CONV, MsgType 51): each session name of
// the phone's chat list with its permanent id — the one place the web protocol reveals
// them (§6.4). Err says why the list could not be trusted; Pairs is then nil.
type IDList struct {
	Pairs map[UserName]WxID
	Err   error
}

// PhoneState is what the phone reports that is no chat message: other status notifies
// (51), SYSNOTICE (9999), friend suggestions (40).
type PhoneState struct{ Type MsgType }

// Call is a voice or video call (50, 52, 53): not bridgeable.
type Call struct{}

// Unsupported is a message kind the decoder does not know.
type Unsupported struct {
	Type    MsgType
	AppType AppMsgType
}

// Undecodable is content that should have been understood and was not; Raw keeps the
// text as it arrived (without the group sender prefix).
type Undecodable struct {
	Type   MsgType
	Reason string
	Raw    string
}

func (*Text) isContent()          {}
func (*Reply) isContent()         {}
func (*Image) isContent()         {}
func (*Voice) isContent()         {}
func (*Video) isContent()         {}
func (*Sticker) isContent()       {}
func (*File) isContent()          {}
func (*Link) isContent()          {}
func (*App) isContent()           {}
func (*Location) isContent()      {}
func (*Card) isContent()          {}
func (*System) isContent()        {}
func (*Revoke) isContent()        {}
func (*FriendRequest) isContent() {}
func (*IDList) isContent()        {}
func (*PhoneState) isContent()    {}
func (*Call) isContent()          {}
func (*Unsupported) isContent()   {}
func (*Undecodable) isContent()   {}

// Decode decodes a message; self is the session's own UserName. It never fails.
func (m *Message) Decode(self UserName) Event {
	info, body := m.info(self)
	return Event{Info: info, Content: decodeContent(m, body)}
}

// decodeMessages decodes a batch's messages in order.
func decodeMessages(msgs []Message, self UserName) []Event {
	out := make([]Event, len(msgs))
	for i := range msgs {
		out[i] = msgs[i].Decode(self)
	}
	return out
}

// info decodes where a message belongs, and returns its content without the group
// sender prefix.
func (m *Message) info(self UserName) (MessageInfo, string) {
	i := MessageInfo{ID: m.MsgId, Type: m.MsgType, Time: time.Unix(m.CreateTime, 0)}
	body := m.Content
	switch {
	case m.FromUserName == self || m.FromUserName == "":
		i.Chat, i.Sender, i.FromMe = m.ToUserName, self, true
	case IsGroup(m.FromUserName):
		i.Chat = m.FromUserName
		// Group system texts carry no sender.
		if s, rest, ok := SplitGroupSender(m.Content); ok {
			i.Sender, body = UserName(s), rest
			i.FromMe = i.Sender == self
		}
	default:
		i.Chat, i.Sender = m.FromUserName, m.FromUserName
	}
	i.Group = IsGroup(i.Chat)
	return i, body
}

func decodeContent(m *Message, body string) Content {
	switch m.MsgType {
	case MsgText:
		if m.SubMsgType == SubMsgTypeLocation {
			return decodeLocation(m, body)
		}
		if q, ok := parseQuote(body); ok {
			return &Reply{Name: q.Name, Quoted: q.Quoted, Text: q.Reply}
		}
		return &Text{Text: DecodeText(body)}
	case MsgLocation:
		return decodeLocation(m, body)
	case MsgImage:
		img := &Image{Width: m.ImgWidth, Height: m.ImgHeight}
		if x, err := parseImageMsg(body); err == nil {
			img.Size = int64(max(x.Length, x.HDLength))
		}
		return img
	case MsgVoice:
		v := &Voice{DurationMS: m.VoiceLength}
		if x, err := parseVoiceMsg(body); err == nil {
			if v.DurationMS <= 0 {
				v.DurationMS = int64(x.VoiceLength)
			}
			v.Size = int64(x.Length)
		}
		return v
	case MsgVideo, MsgMicroVideo:
		v := &Video{Seconds: m.PlayLength, Width: m.ImgWidth, Height: m.ImgHeight}
		if x, err := parseVideoMsg(body); err == nil {
			if v.Seconds <= 0 {
				v.Seconds = int64(x.PlayLength)
			}
			if v.Width <= 0 || v.Height <= 0 {
				v.Width, v.Height = int(x.CDNThumbWidth), int(x.CDNThumbHeight)
			}
			v.Size = int64(x.Length)
		}
		return v
	case MsgEmoticon:
		return decodeSticker(m, body)
	case MsgApp:
		return decodeApp(m, body)
	case MsgShareCard:
		return decodeCard(m, body)
	case MsgSys:
		return decodeSystem(body)
	case MsgRecalled:
		rv := &Revoke{}
		if r, err := parseRevoke(body); err == nil {
			if strings.Trim(string(r.MsgID), "0") != "" {
				rv.MsgID = string(r.MsgID)
			}
			rv.Text = DecodeText(string(r.ReplaceMsg))
		}
		return rv
	case MsgVerify:
		return decodeFriendRequest(m, body)
	case MsgStatusNotify:
		if m.StatusNotifyCode == StatusNotifySyncConv {
			pairs, err := PairStatusNotify(*m)
			return &IDList{Pairs: pairs, Err: err}
		}
		return &PhoneState{Type: m.MsgType}
	case MsgSysNotice, MsgPossibleFriend:
		return &PhoneState{Type: m.MsgType}
	case MsgVoip, MsgVoipNotify, MsgVoipInvite:
		return &Call{}
	}
	return &Unsupported{Type: m.MsgType, AppType: m.AppMsgType}
}

// decodeSticker: store stickers are not downloadable on the web (the official app says
// "请在手机上查看"), and copyrighted ones arrive with no content at all.
func decodeSticker(m *Message, body string) *Sticker {
	s := &Sticker{Width: m.ImgWidth, Height: m.ImgHeight}
	if m.HasProductId != 0 || strings.TrimSpace(body) == "" {
		s.Unavailable = true
		return s
	}
	if m.MsgType == MsgEmoticon {
		if x, err := parseEmojiMsg(body); err == nil {
			s.Unavailable = x.ProductID != ""
			if x.Width > 0 && x.Height > 0 {
				s.Width, s.Height = int(x.Width), int(x.Height)
			}
		}
	}
	return s
}

// decodeApp: the message's AppMsgType decides the kind and the XML adds the details.
// Several kinds are usable without their XML (a file is named by FileName/FileSize, a
// link by FileName/Url), so a broken XML is Undecodable only when nothing else is left.
func decodeApp(m *Message, body string) Content {
	a, err := parseAppMsg(body)
	if err != nil {
		a = nil
	}
	typ := m.AppMsgType
	if typ == 0 && a != nil {
		typ = AppMsgType(a.Type)
	}
	app := &App{Type: typ, Parsed: a != nil, FileName: strings.TrimSpace(DecodeName(m.FileName))}
	if a != nil {
		app.Title, app.Description = strings.TrimSpace(a.Title), strings.TrimSpace(a.Des)
	}
	switch typ {
	case AppMsgAttach:
		f := &File{Name: DecodeName(m.FileName), sender: m.FromUserName, mediaID: m.MediaId, encryFileName: m.EncryFileName}
		f.Size, _ = strconv.ParseInt(strings.TrimSpace(m.FileSize), 10, 64)
		if a != nil {
			if f.Name == "" {
				f.Name = a.Title
			}
			if f.Size <= 0 {
				f.Size = int64(a.AppAttach.TotalLen)
			}
		}
		return f
	case AppMsgEmoji:
		return decodeSticker(m, body)
	case AppMsgRefer:
		if a != nil && a.ReferMsg != nil {
			r := a.ReferMsg
			reply := &Reply{Name: DecodeName(r.DisplayName), QuotedType: MsgType(r.Type), QuotedMsgID: string(r.SvrID), Text: a.Title}
			switch reply.QuotedType {
			case MsgText:
				reply.Quoted = strings.TrimSpace(DecodeText(r.Content))
			case MsgApp:
				if q, err := parseAppMsg(r.Content); err == nil {
					reply.Quoted, reply.QuotedAppType = strings.TrimSpace(q.Title), AppMsgType(q.Type)
				}
			}
			return reply
		}
	case AppMsgRealtimeLoc:
		loc := decodeLocation(m, body)
		loc.Live, loc.Title = true, app.Title
		return loc
	case AppMsgText:
		if app.Title != "" {
			return &Text{Text: a.Title}
		}
	case AppMsgURL, AppMsgAudio, AppMsgVideo, AppMsgMiniProgram, AppMsgMiniProgApp:
		l := &Link{Type: typ, Title: app.Title, Description: app.Description, PageURL: html.UnescapeString(m.Url)}
		if l.Title == "" {
			l.Title = app.FileName
		}
		if a != nil {
			l.URL = string(a.URL)
			l.AudioURL = cmp.Or(string(a.DataURL), string(a.LowDataURL))
			l.Source = strings.TrimSpace(a.SourceDisplayName)
			if len(a.Items) > 1 {
				l.Articles = a.articles()
			}
		}
		return l
	}
	if a == nil && typ == 0 {
		return &Undecodable{Type: MsgApp, Reason: "its content could not be read", Raw: body}
	}
	return app
}

// decodeLocation reads the coordinates from OriContent, the content itself, then the
// Url's coord parameter (Content is "<label>:<br/><map image path>", Url a map link with
// "coord=lat,lng", §5.2, §9.11); any one of them is enough.
func decodeLocation(m *Message, body string) *Location {
	label, _, _ := locationText(body)
	for _, s := range []string{m.OriContent, body} {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if loc, err := parseLocation(s); err == nil {
			if loc.Label == "" {
				loc.Label = label
			}
			return loc
		}
	}
	loc := &Location{Label: label}
	loc.Lat, loc.Lng, loc.HasCoords = coordFromURL(html.UnescapeString(m.Url))
	return loc
}

// coordFromURL reads "coord=lat,lng" from a Tencent Maps link.
func coordFromURL(u string) (lat, lng float64, ok bool) {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		return 0, 0, false
	}
	parts := strings.Split(p.Query().Get("coord"), ",")
	if len(parts) != 2 {
		return 0, 0, false
	}
	lat, ok1 := parseCoord(parts[0], 90)
	lng, ok2 := parseCoord(parts[1], 180)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	return lat, lng, true
}

func decodeCard(m *Message, body string) Content {
	var name, wxID string
	if card, err := parseCard(body); err == nil {
		name = DecodeName(card.NickName)
		wxID = string(card.Alias)
		// An encrypted v1_…@stranger name means nothing to a person.
		if wxID == "" && !strings.HasPrefix(string(card.UserName), "v1_") {
			wxID = string(card.UserName)
		}
	}
	if name == "" {
		name = DecodeName(m.RecommendInfo.NickName)
	}
	if wxID == "" {
		wxID = m.RecommendInfo.Alias
	}
	if name == "" && wxID == "" {
		return &Undecodable{Type: MsgShareCard, Reason: "the card could not be read", Raw: body}
	}
	return &Card{Name: name, WeChatID: wxID}
}

// decodeSystem: system texts are mostly plain text. Newer phones send some as
// `<sysmsg>` XML (pats, "sysmsgtemplate" group notices), rendered from their template.
func decodeSystem(body string) Content {
	if typ, ok := parseSysMsgType(body); ok {
		s := &System{Kind: typ}
		if typ == "revokemsg" {
			if r, err := parseRevoke(body); err == nil && r.ReplaceMsg != "" {
				s.Text = DecodeText(string(r.ReplaceMsg))
				return s
			}
		}
		s.Text = renderSysTemplate(body)
		return s
	}
	text := strings.TrimSpace(DecodeText(body))
	if text == "" {
		return &Undecodable{Type: MsgSys, Reason: "the system message was empty", Raw: body}
	}
	return &System{Text: text}
}

// decodeFriendRequest takes what accepting needs from RecommendInfo and the rest from
// the XML; either may be missing.
func decodeFriendRequest(m *Message, body string) *FriendRequest {
	ri := m.RecommendInfo
	fr := &FriendRequest{
		UserName: ri.UserName,
		Ticket:   ri.Ticket,
		NickName: DecodeName(ri.NickName),
		Alias:    ri.Alias,
		Greeting: DecodeText(ri.Content),
	}
	if x, err := parseFriendRequest(body); err == nil {
		fr.WxID = WxID(x.FromUserName)
		fr.EncryptUserName = string(x.EncryptUserName)
		fr.ChatRoom = WxID(x.ChatRoomUserName)
		if fr.Ticket == "" {
			fr.Ticket = string(x.Ticket)
		}
		if fr.NickName == "" {
			fr.NickName = DecodeName(x.FromNickName)
		}
		if fr.Alias == "" {
			fr.Alias = string(x.Alias)
		}
		if fr.Greeting == "" {
			fr.Greeting = DecodeText(x.Content)
		}
	}
	return fr
}
