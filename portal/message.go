package portal

import (
	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// MessageToMatrix converts one WeChat message (body: its content without the group
// sender prefix) to Matrix content. Kinds not converted yet become a notice saying what
// arrived, never silence.
func MessageToMatrix(m *protoclient.Message, body string) *event.MessageEventContent {
	switch m.MsgType {
	case protoclient.MsgText:
		if m.SubMsgType == protoclient.SubMsgTypeLocation {
			return UnsupportedToMatrix(protoclient.MsgLocation, 0)
		}
		return TextToMatrix(body)
	case protoclient.MsgSys:
		return NoticeToMatrix(protoclient.DecodeText(body))
	case protoclient.MsgRecalled:
		if r, err := protoclient.ParseRevoke(body); err == nil && r.ReplaceMsg != "" {
			return NoticeToMatrix(r.ReplaceMsg)
		}
		return NoticeToMatrix("A message was recalled")
	default:
		return UnsupportedToMatrix(m.MsgType, m.AppMsgType)
	}
}
