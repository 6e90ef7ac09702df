package protoclient

import "fmt"

// App messages (MsgType 49, §5.3, §5.4.9)

// appAttach describes the file of an attachment app message (AppMsgType 6).
type appAttach struct {
	TotalLen     int64
	AttachID     string
	FileExt      string
	CDNAttachURL string
	AESKey       string
	EmoticonMD5  string
	EncryVer     int
}

// weAppInfo describes a mini program (AppMsgType 33/36).
type weAppInfo struct {
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

// referMsg is the quoted message of a structured reply (AppMsgType 57). The web protocol
// is not known to deliver these (§5.3), but phones' XML may carry them.
type referMsg struct {
	Type        MsgType
	SvrID       string // the quoted message's MsgId
	FromUsr     string
	ChatUsr     string
	DisplayName string
	Content     string // as the server put it; may itself be escaped XML
	CreateTime  int64
}

// appMsg is the parsed XML of an app message.
type appMsg struct {
	AppID             string
	Title             string
	Des               string
	Action            string
	Type              AppMsgType
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
	AppAttach         appAttach
	WeAppInfo         weAppInfo
	Articles          []ArticleItem // official-account article lists
	ReferMsg          *referMsg     // AppMsgType 57 only
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

// parseAppMsg parses the XML of an app message (MsgType 49). Content may be passed as
// delivered (escaped, with or without a group-sender prefix) or unescaped. It fails when
// there is no `<msg><appmsg>`.
func parseAppMsg(content string) (*appMsg, error) {
	var x xmlAppMsg
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("appmsg: %w", err)
	}
	if root != "msg" || x.AppMsg == nil {
		return nil, fmt.Errorf("appmsg: %w: no <msg><appmsg> (root <%s>)", ErrMalformed, root)
	}
	a := x.AppMsg
	m := &appMsg{
		AppID:             trim(a.AppID),
		Title:             a.Title,
		Des:               a.Des,
		Action:            trim(a.Action),
		Type:              AppMsgType(atoi(a.Type)),
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
		AppAttach: appAttach{
			TotalLen:     atoi64(a.AppAttach.TotalLen),
			AttachID:     trim(a.AppAttach.AttachID),
			FileExt:      trim(a.AppAttach.FileExt),
			CDNAttachURL: trim(a.AppAttach.CDNAttachURL),
			AESKey:       trim(a.AppAttach.AESKey),
			EmoticonMD5:  trim(a.AppAttach.EmoticonMD5),
			EncryVer:     atoi(a.AppAttach.EncryVer),
		},
		WeAppInfo: weAppInfo{
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
		m.ReferMsg = &referMsg{
			Type:        MsgType(atoi(r.Type)),
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
