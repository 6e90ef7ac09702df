package bridge

import (
	"context"
	"time"
	"wxbridge/portal"

	"go.mau.fi/util/jsontime"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/event"
)

// roomFeatures tells Matrix clients what a WeChat chat can do: text, media, replies (as
// WeChat quotes), recalls within 2 minutes, read markers; no edits, no reactions and no
// formatting, which WeChat does not have. Muting a room has no field here: it stays in
// Matrix, as the web protocol cannot mute a chat for the user (README, "Muted and pinned
// chats"); the favourite tag does reach WeChat (HandleRoomTag).
func (c *WeChatClient) roomFeatures() *event.RoomFeatures {
	maxUp := c.Main.Config.Media.MaxUploadSize
	anyType := map[string]event.CapabilitySupportLevel{"*/*": event.CapLevelFullySupported}
	images := map[string]event.CapabilitySupportLevel{
		"image/jpeg": event.CapLevelFullySupported, "image/png": event.CapLevelFullySupported,
		"image/gif": event.CapLevelFullySupported, "image/bmp": event.CapLevelFullySupported,
		"image/webp": event.CapLevelPartialSupport,
	}
	partialAny := map[string]event.CapabilitySupportLevel{"*/*": event.CapLevelPartialSupport}
	partialImages := map[string]event.CapabilitySupportLevel{}
	for t := range images {
		partialImages[t] = event.CapLevelPartialSupport
	}
	return &event.RoomFeatures{
		ID:            "fi.wxbridge.capabilities.2026_12_02",
		MaxTextLength: 16384,
		File: event.FileFeatureMap{
			event.MsgImage: {MimeTypes: images, Caption: event.CapLevelPartialSupport, MaxSize: min(maxUp, 20<<20)},
			event.MsgVideo: {MimeTypes: map[string]event.CapabilitySupportLevel{"video/mp4": event.CapLevelFullySupported}, Caption: event.CapLevelPartialSupport, MaxSize: min(maxUp, 20<<20)},
			event.MsgFile:  {MimeTypes: anyType, Caption: event.CapLevelPartialSupport, MaxSize: min(maxUp, 50<<20)},
			// Audio and voice messages reach WeChat as files: the web client cannot send
			// voice messages.
			event.MsgAudio:    {MimeTypes: partialAny, MaxSize: min(maxUp, 50<<20)},
			event.CapMsgVoice: {MimeTypes: partialAny, MaxSize: min(maxUp, 50<<20)},
			// A GIF goes as a WeChat emoticon, so that it moves; a sticker as an image
			// (WeChat's own stickers cannot be made from the web).
			event.CapMsgGIF:     {MimeTypes: map[string]event.CapabilitySupportLevel{"image/gif": event.CapLevelFullySupported}, MaxSize: min(maxUp, 20<<20)},
			event.CapMsgSticker: {MimeTypes: partialImages, MaxSize: min(maxUp, 20<<20)},
		},
		LocationMessage: event.CapLevelPartialSupport,
		Reply:           event.CapLevelPartialSupport,
		Edit:            event.CapLevelRejected,
		Reaction:        event.CapLevelRejected,
		Delete:          event.CapLevelFullySupported,
		DeleteMaxAge:    ptr(jsontime.S(2 * time.Minute)),
		ReadReceipts:    true,
	}
}

// GetCapabilities: a group's name can be changed from Matrix (HandleMatrixRoomName), a
// DM's cannot (WeChat names it after the contact).
func (c *WeChatClient) GetCapabilities(ctx context.Context, p *bridgev2.Portal) *event.RoomFeatures {
	f := c.roomFeatures()
	name := event.CapLevelRejected
	if p != nil && portal.IsGroupID(portal.ParsePortalID(p.ID)) {
		f.ID += ".group"
		name = event.CapLevelFullySupported
	}
	f.State = event.StateFeatureMap{event.StateRoomName.Type: {Level: name}}
	return f
}
