package bridge

import (
	"testing"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/event"

	"wxbridge/portal"
)

// What a client reads from the room's capabilities decides which composer options it
// offers: voice messages arrive on WeChat as files (partial), GIFs as moving emoticons,
// stickers as images (partial); a group's name can be changed, a DM's cannot.
func TestCapabilities(t *testing.T) {
	c := &WeChatClient{Main: &WeChatConnector{}}
	c.Main.Config.Media.MaxUploadSize = 50 << 20
	group := &bridgev2.Portal{Portal: &database.Portal{PortalKey: portal.MakePortalKey("123@chatroom", "uin1")}}
	dm := &bridgev2.Portal{Portal: &database.Portal{PortalKey: portal.MakePortalKey("wxid_bob", "uin1")}}
	g, d := c.GetCapabilities(t.Context(), group), c.GetCapabilities(t.Context(), dm)
	if g.ID == d.ID {
		t.Errorf("groups and DMs have different features but the same capability ID %q", g.ID)
	}
	for _, tc := range []struct {
		what string
		got  event.CapabilitySupportLevel
		want event.CapabilitySupportLevel
	}{
		{"group name", g.State[event.StateRoomName.Type].Level, event.CapLevelFullySupported},
		{"DM name", d.State[event.StateRoomName.Type].Level, event.CapLevelRejected},
		{"voice message", d.File[event.CapMsgVoice].MimeTypes["*/*"], event.CapLevelPartialSupport},
		{"audio", d.File[event.MsgAudio].MimeTypes["*/*"], event.CapLevelPartialSupport},
		{"GIF", d.File[event.CapMsgGIF].MimeTypes["image/gif"], event.CapLevelFullySupported},
		{"sticker", d.File[event.CapMsgSticker].MimeTypes["image/png"], event.CapLevelPartialSupport},
		{"image", d.File[event.MsgImage].MimeTypes["image/png"], event.CapLevelFullySupported},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.what, tc.got, tc.want)
		}
	}
}
