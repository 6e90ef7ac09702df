package bridge

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/matrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/portal"
)

// wechatMsgIDKey marks every bridged event with the WeChat MsgId it came from.
const wechatMsgIDKey = "fi.wxbridge.wechat_msg_id"

// replayLookback is how many recent events of a room are searched for the mark.
const replayLookback = 50

// replayGrace: a send the previous process made just before it died is not lost with its
// connection; the homeserver finishes it and the event appears a moment later (the chaos
// test saw Dendrite store one 1.2 s after the kill, after the new process had searched
// the room and sent the message again). Rooms are searched no earlier than this after the
// bridge started, so such events are there to be found.
const replayGrace = 5 * time.Second

// The one window the SyncKey rule leaves open: the bridge dies after the homeserver took
// an event but before bridgev2 stored its message row. The cursor was not saved past it,
// so the message comes again after the restart, and without a row it would be sent a
// second time. At most one message per chat queue is in flight (pipeline.go), all of them
// after the stored cursor; so after a resume, until the pipeline has drained what WeChat
// sent again, each room's recent events are searched for the message's mark, and a
// message found there gets its row instead of a second event. In encrypted portals the
// bridge decrypts what it finds: its own device holds the keys of every session it sent
// with.

// armReplayCheck makes the next tries search the rooms for the marks again, with the
// rooms read afresh: a failed try may have put an event there that no row records.
func (c *WeChatClient) armReplayCheck() {
	c.replayMu.Lock()
	c.replayRooms = nil
	c.replayMu.Unlock()
	c.replayCheck.Store(true)
}

// alreadyBridged reports whether the message is already in the room, and stores its
// row if it is.
func (c *WeChatClient) alreadyBridged(ctx context.Context, p *bridgev2.Portal, in *incoming) bool {
	evtID := c.findMarked(ctx, p.MXID, in.ev.Info.ID)
	if evtID == "" {
		return false
	}
	err := c.Main.Bridge.DB.Message.Insert(ctx, &database.Message{
		ID:        portal.MakeMessageID(in.ev.Info.ID),
		MXID:      evtID,
		Room:      p.PortalKey,
		SenderID:  in.sender,
		Timestamp: in.ev.Info.Time,
		Metadata:  &MessageMetadata{},
	})
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("wechat_msg_id", in.ev.Info.ID).Msg("Storing the row of a message found already bridged failed")
	}
	zerolog.Ctx(ctx).Info().Str("wechat_msg_id", in.ev.Info.ID).Stringer("event_id", evtID).
		Msg("Message was bridged before the restart; not sending it again")
	return true
}

func (c *WeChatClient) findMarked(ctx context.Context, room id.RoomID, msgID string) id.EventID {
	if room == "" {
		return ""
	}
	mc, ok := c.Main.Bridge.Matrix.(*matrix.Connector)
	if !ok || mc.Bot == nil {
		return ""
	}
	c.replayMu.Lock()
	defer c.replayMu.Unlock()
	marks, ok := c.replayRooms[room]
	if !ok {
		if wait := time.Until(c.Main.started.Add(replayGrace)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		marks = map[string]id.EventID{}
		resp, err := mc.Bot.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, replayLookback)
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Stringer("room_id", room).Msg("Could not check the room for messages bridged before the restart")
		} else {
			for _, evt := range resp.Chunk {
				if v, ok := markOf(ctx, mc, room, evt); ok {
					if _, seen := marks[v]; !seen {
						marks[v] = evt.ID
					}
				}
			}
		}
		if c.replayRooms == nil {
			c.replayRooms = map[id.RoomID]map[string]id.EventID{}
		}
		c.replayRooms[room] = marks
	}
	return marks[msgID]
}

// markOf reads the WeChat MsgId mark of an event, decrypting it when it is encrypted.
func markOf(ctx context.Context, mc *matrix.Connector, room id.RoomID, evt *event.Event) (string, bool) {
	content := evt.Content.Raw
	if evt.Type == event.EventEncrypted {
		if mc.Crypto == nil || !mc.Bridge.IsGhostMXID(evt.Sender) {
			return "", false
		}
		evt.RoomID = room
		if err := evt.Content.ParseRaw(evt.Type); err != nil {
			return "", false
		}
		dec, err := mc.Crypto.Decrypt(ctx, evt)
		if err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Stringer("event_id", evt.ID).Msg("Could not decrypt an event while looking for messages bridged before the restart")
			return "", false
		}
		content = dec.Content.Raw
	}
	v, ok := content[wechatMsgIDKey].(string)
	return v, ok
}
