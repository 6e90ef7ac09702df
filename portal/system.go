package portal

import (
	"strings"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// System texts (MsgType 10000, §5.4.8) are shown as they are; red-packet texts get a
// word on what arrived, and XML ones without a text say what they were.
func systemNotice(s *protoclient.System) *event.MessageEventContent {
	if s.Kind == "" {
		if isRedPacketText(s.Text) {
			return notice("[Red packet — open WeChat on your phone to see it] " + s.Text)
		}
		return notice(ReplaceSmileys(s.Text))
	}
	if s.Text != "" {
		return notice(ReplaceSmileys(s.Text))
	}
	what := "System message"
	if s.Kind == "pat" {
		what = "Pat (拍一拍)"
	}
	return phoneNotice(what, "")
}

func isRedPacketText(text string) bool {
	return strings.Contains(text, "红包") || strings.Contains(strings.ToLower(text), "red packet")
}
