package portal

import (
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/format"

	"wxbridge/protoclient"
)

// KindName names a WeChat message kind for people.
func KindName(msgType protoclient.MsgType, appMsgType protoclient.AppMsgType) string {
	switch msgType {
	case protoclient.MsgImage:
		return "Image"
	case protoclient.MsgVoice:
		return "Voice message"
	case protoclient.MsgVideo, protoclient.MsgMicroVideo:
		return "Video"
	case protoclient.MsgEmoticon:
		return "Sticker"
	case protoclient.MsgShareCard:
		return "Contact card"
	case protoclient.MsgLocation:
		return "Location"
	case protoclient.MsgVerify:
		return "Friend request"
	case protoclient.MsgVoip, protoclient.MsgVoipNotify, protoclient.MsgVoipInvite:
		return "Call"
	case protoclient.MsgApp:
		switch appMsgType {
		case protoclient.AppMsgAttach:
			return "File"
		case protoclient.AppMsgURL:
			return "Link"
		case protoclient.AppMsgTransfers:
			return "Money transfer"
		case protoclient.AppMsgRedEnvelopes:
			return "Red packet"
		case protoclient.AppMsgMiniProgram, protoclient.AppMsgMiniProgApp:
			return "Mini program"
		case protoclient.AppMsgAudio:
			return "Music"
		case protoclient.AppMsgVideo:
			return "Video link"
		case protoclient.AppMsgImg:
			return "Image"
		case protoclient.AppMsgEmoji:
			return "Sticker"
		case protoclient.AppMsgRealtimeLoc:
			return "Live location"
		case 0, protoclient.AppMsgChatHistory:
			return "Chat history"
		case protoclient.AppMsgChannels:
			return "Channels video"
		case protoclient.AppMsgRefer:
			return "Reply"
		}
		return "App message"
	}
	return "Unsupported WeChat message"
}

// TextFromMatrix converts a Matrix text, notice or emote to the plain text WeChat
// sends: no HTML, no reply fallback, line breaks as \n.
func TextFromMatrix(content *event.MessageEventContent) string {
	content.RemoveReplyFallback()
	text := content.Body
	if content.Format == event.FormatHTML && content.FormattedBody != "" {
		text = format.HTMLToText(content.FormattedBody)
	}
	if content.MsgType == event.MsgEmote {
		text = "/me " + text
	}
	return strings.TrimRight(text, "\n")
}
