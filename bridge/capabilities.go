package bridge

import (
	"context"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/event"
)

// roomFeatures is what a WeChat chat can do from Matrix: text; no edits, reactions or
// formatting, which WeChat does not have.
var roomFeatures = &event.RoomFeatures{
	ID:            "fi.wxbridge.capabilities.2026_11_26",
	MaxTextLength: 16384,
	Edit:          event.CapLevelRejected,
	Reaction:      event.CapLevelRejected,
	Reply:         event.CapLevelPartialSupport,
	ReadReceipts:  true,
}

func (c *WeChatClient) GetCapabilities(ctx context.Context, _ *bridgev2.Portal) *event.RoomFeatures {
	return roomFeatures
}
