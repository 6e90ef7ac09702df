package protoclient

// Media messages (MsgType 3, 34, 43/62, 47): `<msg>` with one element whose attributes
// say what the media is.

// imageMsg is the `<img>` of an image message. Some versions send an opaque `@…`
// string instead (§5.2); that is an error here, and the image is still downloadable by
// MsgId.
type imageMsg struct {
	AESKey         xmlStr   `xml:"aeskey,attr"`
	EncryVer       xmlInt   `xml:"encryver,attr"`
	CDNThumbAESKey xmlStr   `xml:"cdnthumbaeskey,attr"`
	CDNThumbURL    xmlStr   `xml:"cdnthumburl,attr"`
	CDNThumbLength xmlInt64 `xml:"cdnthumblength,attr"`
	CDNThumbWidth  xmlInt   `xml:"cdnthumbwidth,attr"`
	CDNThumbHeight xmlInt   `xml:"cdnthumbheight,attr"`
	CDNMidImgURL   xmlStr   `xml:"cdnmidimgurl,attr"`
	CDNBigImgURL   xmlStr   `xml:"cdnbigimgurl,attr"`
	Length         xmlInt64 `xml:"length,attr"`
	HDLength       xmlInt64 `xml:"hdlength,attr"`
	MD5            xmlStr   `xml:"md5,attr"`
}

// voiceMsg is the `<voicemsg>` of a voice message.
type voiceMsg struct {
	VoiceLength  xmlInt64 `xml:"voicelength,attr"` // milliseconds
	Length       xmlInt64 `xml:"length,attr"`      // bytes
	VoiceFormat  xmlInt   `xml:"voiceformat,attr"`
	EndFlag      xmlInt   `xml:"endflag,attr"`
	CancelFlag   xmlInt   `xml:"cancelflag,attr"`
	BufID        xmlStr   `xml:"bufid,attr"`
	ClientMsgID  xmlStr   `xml:"clientmsgid,attr"`
	FromUserName xmlStr   `xml:"fromusername,attr"` // permanent id of the sender
}

// videoMsg is the `<videomsg>` of a video message (MsgType 43 and 62).
type videoMsg struct {
	AESKey         xmlStr   `xml:"aeskey,attr"`
	CDNVideoURL    xmlStr   `xml:"cdnvideourl,attr"`
	CDNThumbURL    xmlStr   `xml:"cdnthumburl,attr"`
	CDNThumbAESKey xmlStr   `xml:"cdnthumbaeskey,attr"`
	Length         xmlInt64 `xml:"length,attr"`     // bytes
	PlayLength     xmlInt64 `xml:"playlength,attr"` // seconds
	CDNThumbLength xmlInt64 `xml:"cdnthumblength,attr"`
	CDNThumbWidth  xmlInt   `xml:"cdnthumbwidth,attr"`
	CDNThumbHeight xmlInt   `xml:"cdnthumbheight,attr"`
	FromUserName   xmlStr   `xml:"fromusername,attr"`
	MD5            xmlStr   `xml:"md5,attr"`
	NewMD5         xmlStr   `xml:"newmd5,attr"`
	IsAd           xmlInt   `xml:"isad,attr"`
}

// emojiMsg is the `<emoji>` of a sticker (MsgType 47).
type emojiMsg struct {
	FromUserName xmlStr   `xml:"fromusername,attr"`
	ToUserName   xmlStr   `xml:"tousername,attr"`
	Type         xmlInt   `xml:"type,attr"` // 2 = GIF/image sticker
	MD5          xmlStr   `xml:"md5,attr"`
	Len          xmlInt64 `xml:"len,attr"`
	ProductID    xmlStr   `xml:"productid,attr"` // non-empty for store stickers
	CDNURL       xmlStr   `xml:"cdnurl,attr"`
	ThumbURL     xmlStr   `xml:"thumburl,attr"`
	EncryptURL   xmlStr   `xml:"encrypturl,attr"`
	AESKey       xmlStr   `xml:"aeskey,attr"`
	ExternURL    xmlStr   `xml:"externurl,attr"`
	ExternMD5    xmlStr   `xml:"externmd5,attr"`
	Width        xmlInt   `xml:"width,attr"`
	Height       xmlInt   `xml:"height,attr"`
}

// parseImageMsg parses the content of an image message; it fails without `<msg><img>`.
func parseImageMsg(content string) (*imageMsg, error) {
	var x struct {
		Img *imageMsg `xml:"img"`
	}
	return x.Img, checkRoot(content, &x, "image", "<msg><img>", func() bool { return x.Img != nil })
}

// parseVoiceMsg parses the content of a voice message; it fails without
// `<msg><voicemsg>`.
func parseVoiceMsg(content string) (*voiceMsg, error) {
	var x struct {
		Voice *voiceMsg `xml:"voicemsg"`
	}
	return x.Voice, checkRoot(content, &x, "voice", "<msg><voicemsg>", func() bool { return x.Voice != nil })
}

// parseVideoMsg parses the content of a video message; it fails without
// `<msg><videomsg>` (the opaque `@hex` form of some versions included).
func parseVideoMsg(content string) (*videoMsg, error) {
	var x struct {
		Video *videoMsg `xml:"videomsg"`
	}
	return x.Video, checkRoot(content, &x, "video", "<msg><videomsg>", func() bool { return x.Video != nil })
}

// parseEmojiMsg parses the content of a sticker message; it fails without
// `<msg><emoji>` (copyrighted stickers arrive with an empty Content).
func parseEmojiMsg(content string) (*emojiMsg, error) {
	var x struct {
		Emoji *emojiMsg `xml:"emoji"`
	}
	return x.Emoji, checkRoot(content, &x, "emoticon", "<msg><emoji>", func() bool { return x.Emoji != nil })
}
