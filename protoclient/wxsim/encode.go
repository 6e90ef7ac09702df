package wxsim

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"wxbridge/protoclient"
)

// Wire encodings of message contents (reference §5.4): typed text goes through
// protoclient.EncodeContent, the same rule the client's decoder inverts; XML payloads
// are built here and wrapped the way the server wraps them — HTML-escaped once, with
// "\n" as <br/>, so entities inside the XML end up escaped twice.

// encodeText is the Content of a typed text.
func encodeText(plain string) string { return protoclient.EncodeContent(plain) }

var xmlAttrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

// xa escapes a value for an XML attribute or text node.
func xa(s string) string { return xmlAttrEscaper.Replace(s) }

var wrapEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\n", "<br/>")

// wrapXML is how an XML payload appears in Content.
func wrapXML(x string) string { return wrapEscaper.Replace(x) }

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func imageXML(data []byte) string {
	key, thumb := randHex(16), "3057020100044b30490201000204"+randHex(24)
	return fmt.Sprintf("<?xml version=\"1.0\"?>\n<msg>\n\t<img aeskey=\"%s\" encryver=\"1\" cdnthumbaeskey=\"%s\" cdnthumburl=\"%s\" cdnthumblength=\"%d\" cdnthumbheight=\"120\" cdnthumbwidth=\"90\" cdnmidheight=\"0\" cdnmidwidth=\"0\" cdnhdheight=\"0\" cdnhdwidth=\"0\" cdnmidimgurl=\"%s\" length=\"%d\" md5=\"%s\" />\n</msg>\n",
		key, key, thumb, len(data), thumb, len(data), md5hex(data))
}

func voiceXML(data []byte, lengthMS int64, from, clientMsgID string) string {
	return fmt.Sprintf(`<msg><voicemsg endflag="1" cancelflag="0" forwardflag="0" voiceformat="4" voicelength="%d" length="%d" bufid="%s" clientmsgid="%s" fromusername="%s" /></msg>`,
		lengthMS, len(data), randDigits(18), xa(clientMsgID), xa(from))
}

func videoXML(data []byte, playS int64, w, h int, from string) string {
	key, url := randHex(16), "3057020100044b30490201000204"+randHex(24)
	return fmt.Sprintf("<?xml version=\"1.0\"?>\n<msg>\n\t<videomsg aeskey=\"%s\" cdnthumbaeskey=\"%s\" cdnvideourl=\"%s\" cdnthumburl=\"%s\" length=\"%d\" playlength=\"%d\" cdnthumblength=\"%d\" cdnthumbwidth=\"%d\" cdnthumbheight=\"%d\" fromusername=\"%s\" md5=\"%s\" newmd5=\"%s\" isad=\"0\" />\n</msg>\n",
		key, key, url, url, len(data), playS, 4096, w, h, xa(from), md5hex(data), randHex(16))
}

func emojiXML(data []byte, w, h int, from, to string) string {
	sum := md5hex(data)
	cdn := "http://emoji.qpic.cn/wx_emoji/" + randAlnum(40) + "/"
	return fmt.Sprintf(`<msg><emoji fromusername="%s" tousername="%s" type="2" idbuffer="media:0_0" md5="%s" len="%d" productid="" androidmd5="%s" androidlen="%d" s60v3md5="%s" s60v3len="%d" s60v5md5="%s" s60v5len="%d" cdnurl="%s" designerid="" thumburl="" encrypturl="%s" aeskey="%s" externurl="%s" externmd5="%s" width="%d" height="%d" tpurl="" tpauthkey="" attachedtext=""></emoji><gameext type="0" content="0"></gameext></msg>`,
		xa(from), xa(to), sum, len(data), sum, len(data), sum, len(data), sum, len(data), cdn, cdn, randHex(16), cdn, randHex(16), w, h)
}

func fileExt(name string) string {
	return strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
}

// fileAppXML is a received file (§5.4.9).
func fileAppXML(name string, size int, attachID, from string, data []byte) string {
	return fmt.Sprintf(`<msg><appmsg appid="wx6618f1cfc6c132f8" sdkver="0"><title>%s</title><des></des><action>view</action><type>6</type><showtype>0</showtype><content></content><url></url><dataurl></dataurl><lowurl></lowurl><lowdataurl></lowdataurl><recorditem><![CDATA[]]></recorditem><thumburl></thumburl><messageaction></messageaction><extinfo></extinfo><sourceusername></sourceusername><sourcedisplayname></sourcedisplayname><commenturl></commenturl><appattach><totallen>%d</totallen><attachid>%s</attachid><emoticonmd5></emoticonmd5><fileext>%s</fileext><cdnattachurl>%s</cdnattachurl><aeskey>%s</aeskey><encryver>1</encryver></appattach><md5>%s</md5></appmsg><fromusername>%s</fromusername><scene>0</scene><appinfo><version>7</version><appname>微信电脑版</appname></appinfo><commenturl></commenturl></msg>`,
		xa(name), size, xa(attachID), xa(fileExt(name)), randHex(32), randHex(16), md5hex(data), xa(from))
}

// appXML is any other app message: title and url are what a link card shows.
func appXML(appType int, title, url, from string) string {
	return fmt.Sprintf(`<msg><appmsg appid="" sdkver="0"><title>%s</title><des></des><action>view</action><type>%d</type><showtype>0</showtype><content></content><url>%s</url><dataurl></dataurl><lowurl></lowurl><lowdataurl></lowdataurl><appattach><totallen>0</totallen><attachid></attachid><fileext></fileext></appattach><extinfo></extinfo></appmsg><fromusername>%s</fromusername><scene>0</scene><appinfo><version>1</version><appname></appname></appinfo><commenturl></commenturl></msg>`,
		xa(title), appType, xa(url), xa(from))
}

func revokeXML(session, msgID, replace string) string {
	return fmt.Sprintf(`<sysmsg type="revokemsg"><revokemsg><session>%s</session><oldmsgid>%s</oldmsgid><msgid>%s</msgid><replacemsg><![CDATA[%s]]></replacemsg></revokemsg></sysmsg>`,
		xa(session), newOldMsgID(), msgID, strings.ReplaceAll(replace, "]]>", "]]&gt;"))
}

func friendRequestXML(wxid, nickname, greeting, ticket string) string {
	return fmt.Sprintf(`<msg fromusername="%s" encryptusername="%s" fromnickname="%s" content="%s"  shortpy="" imagestatus="3" scene="30" country="CN" province="" city="" sign="" percard="1" sex="0" alias="" weibo="" weibonickname="" albumflag="0" albumstyle="0" albumbgimgid="" snsflag="1" snsbgimgid="" snsbgobjectid="0" mhash="" mfullhash="" bigheadimgurl="" smallheadimgurl="" ticket="%s" opcode="2" googlecontact="" qrticket="" chatroomusername="" sourceusername="" sourcenickname=""><brandlist count="0" ver="670564024"></brandlist></msg>`,
		xa(wxid), newEncryptUser(), xa(nickname), xa(greeting), ticket)
}

func randDigits(n int) string {
	b := randBytes(n)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}
