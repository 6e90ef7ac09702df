package protoclient

import "fmt"

// Media messages (MsgType 3, 34, 43/62, 47)

// imageMsg is the XML of an image message. Some versions send an opaque `@…` string
// instead (§5.2); that is an error here, and the image is still downloadable by MsgId.
type imageMsg struct {
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

// parseImageMsg parses the content of an image message; it fails without `<msg><img>`.
func parseImageMsg(content string) (*imageMsg, error) {
	var x xmlImage
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	if root != "msg" || x.Img == nil {
		return nil, fmt.Errorf("image: %w: no <msg><img> (root <%s>)", ErrMalformed, root)
	}
	i := x.Img
	return &imageMsg{
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

// voiceMsg is the XML of a voice message.
type voiceMsg struct {
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

// parseVoiceMsg parses the content of a voice message; it fails without
// `<msg><voicemsg>`.
func parseVoiceMsg(content string) (*voiceMsg, error) {
	var x xmlVoice
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	if root != "msg" || x.Voice == nil {
		return nil, fmt.Errorf("voice: %w: no <msg><voicemsg> (root <%s>)", ErrMalformed, root)
	}
	v := x.Voice
	return &voiceMsg{
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

// videoMsg is the XML of a video message (MsgType 43 and 62).
type videoMsg struct {
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

// parseVideoMsg parses the content of a video message; it fails without
// `<msg><videomsg>` (the opaque `@hex` form of some versions included).
func parseVideoMsg(content string) (*videoMsg, error) {
	var x xmlVideo
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	if root != "msg" || x.Video == nil {
		return nil, fmt.Errorf("video: %w: no <msg><videomsg> (root <%s>)", ErrMalformed, root)
	}
	v := x.Video
	return &videoMsg{
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

// emojiMsg is the XML of a sticker (MsgType 47).
type emojiMsg struct {
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

// parseEmojiMsg parses the content of a sticker message; it fails without
// `<msg><emoji>` (copyrighted stickers arrive with an empty Content).
func parseEmojiMsg(content string) (*emojiMsg, error) {
	var x xmlEmoji
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("emoticon: %w", err)
	}
	if root != "msg" || x.Emoji == nil {
		return nil, fmt.Errorf("emoticon: %w: no <msg><emoji> (root <%s>)", ErrMalformed, root)
	}
	e := x.Emoji
	return &emojiMsg{
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
