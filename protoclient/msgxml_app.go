package protoclient

// App messages (MsgType 49, §5.3, §5.4.9)

// appMsg is the `<appmsg>` of an app message, with what `<msg>` carries around it.
type appMsg struct {
	AppID             xmlStr    `xml:"appid,attr"`
	Title             string    `xml:"title"`
	Des               string    `xml:"des"`
	Action            xmlStr    `xml:"action"`
	Type              xmlInt    `xml:"type"`
	ShowType          xmlInt    `xml:"showtype"`
	Content           string    `xml:"content"`
	URL               xmlStr    `xml:"url"`
	LowURL            xmlStr    `xml:"lowurl"`
	DataURL           xmlStr    `xml:"dataurl"`
	LowDataURL        xmlStr    `xml:"lowdataurl"`
	ThumbURL          xmlStr    `xml:"thumburl"`
	RecordItem        string    `xml:"recorditem"` // merged-forward chat history, itself XML
	SourceUserName    xmlStr    `xml:"sourceusername"`
	SourceDisplayName string    `xml:"sourcedisplayname"`
	MD5               xmlStr    `xml:"md5"`
	AppAttach         appAttach `xml:"appattach"` // AppMsgType 6
	WeAppInfo         weAppInfo `xml:"weappinfo"` // AppMsgType 33/36
	// Items are an official account's article list (`<mmreader>`).
	Items []struct {
		Title   xmlStr   `xml:"title"`
		URL     xmlStr   `xml:"url"`
		Digest  xmlStr   `xml:"digest"`
		Cover   xmlStr   `xml:"cover"`
		PubTime xmlInt64 `xml:"pub_time"`
	} `xml:"mmreader>category>item"`
	ReferMsg *referMsg `xml:"refermsg"` // AppMsgType 57

	// From `<msg>`: the permanent id of the sender when given, and the app that sent it
	// (e.g. 微信电脑版).
	FromUserName xmlStr `xml:"-"`
	Scene        xmlInt `xml:"-"`
	AppName      xmlStr `xml:"-"`
	AppVersion   xmlInt `xml:"-"`
}

// appAttach describes the file of an attachment.
type appAttach struct {
	TotalLen     xmlInt64 `xml:"totallen"`
	AttachID     xmlStr   `xml:"attachid"`
	EmoticonMD5  xmlStr   `xml:"emoticonmd5"`
	FileExt      xmlStr   `xml:"fileext"`
	CDNAttachURL xmlStr   `xml:"cdnattachurl"`
	AESKey       xmlStr   `xml:"aeskey"`
	EncryVer     xmlInt   `xml:"encryver"`
}

// referMsg is the quoted message of a structured reply (AppMsgType 57). The web
// protocol is not known to deliver these (§5.3), but phones' XML may carry them.
type referMsg struct {
	Type        xmlInt   `xml:"type"`
	SvrID       xmlStr   `xml:"svrid"` // the quoted message's MsgId
	FromUsr     xmlStr   `xml:"fromusr"`
	ChatUsr     xmlStr   `xml:"chatusr"`
	DisplayName string   `xml:"displayname"`
	Content     string   `xml:"content"` // as the server put it; may itself be escaped XML
	CreateTime  xmlInt64 `xml:"createtime"`
}

// weAppInfo describes a mini program.
type weAppInfo struct {
	PagePath       xmlStr `xml:"pagepath"`
	UserName       xmlStr `xml:"username"`
	AppID          xmlStr `xml:"appid"`
	AppServiceType xmlInt `xml:"appservicetype"`
}

// ArticleItem is one article of an official-account article list.
type ArticleItem struct {
	Title   string
	URL     string
	Digest  string
	Cover   string
	PubTime int64
}

// articles are the message's article list.
func (a *appMsg) articles() []ArticleItem {
	var out []ArticleItem
	for _, it := range a.Items {
		out = append(out, ArticleItem{Title: string(it.Title), URL: string(it.URL), Digest: string(it.Digest),
			Cover: string(it.Cover), PubTime: int64(it.PubTime)})
	}
	return out
}

// parseAppMsg parses the XML of an app message (MsgType 49). Content may be passed as
// delivered (escaped, with or without a group-sender prefix) or unescaped. It fails when
// there is no `<msg><appmsg>`.
func parseAppMsg(content string) (*appMsg, error) {
	var x struct {
		AppMsg       *appMsg `xml:"appmsg"`
		FromUserName xmlStr  `xml:"fromusername"`
		Scene        xmlInt  `xml:"scene"`
		AppInfo      struct {
			Version xmlInt `xml:"version"`
			AppName xmlStr `xml:"appname"`
		} `xml:"appinfo"`
	}
	if err := checkRoot(content, &x, "appmsg", "<msg><appmsg>", func() bool { return x.AppMsg != nil }); err != nil {
		return nil, err
	}
	a := x.AppMsg
	a.FromUserName, a.Scene, a.AppName, a.AppVersion = x.FromUserName, x.Scene, x.AppInfo.AppName, x.AppInfo.Version
	return a, nil
}
