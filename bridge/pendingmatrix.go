package bridge

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"wxbridge/bridge/wxdb"

	"github.com/rs/zerolog"
	"go.mau.fi/util/exhttp"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/bridgev2/matrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// The appservice answers a homeserver transaction as soon as its events are queued, before
// any of them is handled: a bridge killed in between loses the user's messages, and the
// homeserver, which got its 200, never sends them again. So the messages a user writes in
// a portal are written down before the answer (the middleware below) and crossed off once
// handled; whatever is left at the next start is handled then (recoverMatrixMessages).
// A message handled twice this way (a transaction the homeserver repeats) is sent with the
// same ClientMsgId, which WeChat takes as one message, and its second handling is dropped
// when the first stored its row.

// pendingMaxAge bounds which leftovers are still sent after a restart: a message the
// user wrote long ago must not suddenly appear in WeChat.
const pendingMaxAge = 15 * time.Minute

// txnEvent is what the middleware reads of each event of a transaction.
type txnEvent struct {
	ID      id.EventID `json:"event_id"`
	Room    id.RoomID  `json:"room_id"`
	Sender  id.UserID  `json:"sender"`
	Type    string     `json:"type"`
	Content struct {
		Body      string `json:"body"`
		RelatesTo *struct {
			Type string `json:"rel_type"`
		} `json:"m.relates_to"`
		// Set on what the bridge itself sent as the user (double puppeting):
		// appservice.DoublePuppetKey (a struct tag cannot name the constant).
		DoublePuppetSource string `json:"fi.mau.double_puppet_source"`
	} `json:"content"`
}

// pendingMiddleware writes down the user messages of each authenticated transaction
// before the appservice answers it. When that fails, the homeserver gets an error and
// sends the transaction again later; nothing is acknowledged that was not written.
func (wc *WeChatConnector) pendingMiddleware(mc *matrix.Connector) exhttp.Middleware {
	// Beeper's message checkpoints and the websocket mode see every event; leave them be.
	echoFastPath := mc.Config == nil || (mc.Config.Homeserver.MessageSendCheckpointEndpoint == "" && !mc.Config.Homeserver.Websocket)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPut || !strings.HasPrefix(r.URL.Path, "/_matrix/app/v1/transactions/") ||
				!hasServerToken(r, mc.AS.Registration.ServerToken) {
				next.ServeHTTP(w, r)
				return
			}
			body, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				mautrix.MNotJSON.WithMessage("Failed to read request body").Write(w)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			bot := wc.Bridge.Bot.GetMXID()
			if onlySenders(body, func(u id.UserID) bool { return u == bot || wc.Bridge.IsGhostMXID(u) }) {
				// Most transactions only carry the bridge's own events back (every bridged
				// message comes back once). bridgev2 ignores those (shouldIgnoreEvent) after
				// parsing them and routing each through its event processor: when nothing
				// else is in the transaction, answer it here.
				if echoFastPath && onlyOwnTimelineEvents(body) {
					exhttp.WriteEmptyJSONResponse(w, http.StatusOK)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			var txn struct {
				Events []txnEvent `json:"events"`
			}
			if json.Unmarshal(body, &txn) == nil {
				ctx := wc.Bridge.BackgroundCtx
				if err := wc.DB.PendingMatrix.Add(ctx, wc.userMessages(ctx, txn.Events)); err != nil {
					wc.Bridge.Log.Err(err).Msg("Could not write down the Matrix messages of a transaction; the homeserver will send it again")
					mautrix.MUnknown.WithMessage("bridge database unavailable").WithStatus(http.StatusServiceUnavailable).Write(w)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// onlySenders reports whether every `"sender":"…"` in a transaction body is one that ok
// accepts, and there is at least one. It looks at the raw bytes: any other spelling makes
// it answer false, and the caller parses the body properly.
func onlySenders(body []byte, ok func(id.UserID) bool) bool {
	key := []byte(`"sender":"`)
	found := false
	for rest := body; ; {
		i := bytes.Index(rest, key)
		if i < 0 {
			return found
		}
		rest = rest[i+len(key):]
		j := bytes.IndexByte(rest, '"')
		if j < 0 || !ok(id.UserID(rest[:j])) {
			return false
		}
		found = true
		rest = rest[j:]
	}
}

// sideDataMarkers are the JSON keys of what bridgev2 handles even when the bridge sent it:
// state (its state store follows every state event, tombstones are followed), and the
// ephemeral, to-device and device-list parts of a transaction (encryption). A raw quote
// inside a JSON string is always escaped, so a key cannot hide; a string that merely ends
// in one of these words makes the check say no, and the transaction takes the long way.
var sideDataMarkers = [][]byte{
	[]byte(`"state_key"`), []byte(`"m.room.tombstone"`), []byte(`ephemeral"`), []byte(`to_device"`),
	[]byte(`device_lists"`), []byte(`one_time_keys_count"`), []byte(`fallback_key_types"`),
}

// onlyOwnTimelineEvents: a well-formed transaction with nothing but timeline events (whose
// senders onlySenders checked) and none of the side data bridgev2 acts on.
func onlyOwnTimelineEvents(body []byte) bool {
	for _, m := range sideDataMarkers {
		if bytes.Contains(body, m) {
			return false
		}
	}
	return json.Valid(body)
}

func hasServerToken(r *http.Request, token string) bool {
	h := r.Header.Get("Authorization")
	return strings.HasPrefix(h, "Bearer ") && subtle.ConstantTimeCompare([]byte(h[len("Bearer "):]), []byte(token)) == 1
}

// userMessages picks the events the bridge sends to WeChat: messages and stickers (not
// edits, not commands) by a real user in a portal, redactions (recalls), and, in encrypted
// portals, every m.room.encrypted event of a user: what it is shows only once decrypted,
// at recovery (recoverEncrypted); an edit's relation is in the clear.
func (wc *WeChatConnector) userMessages(ctx context.Context, evts []txnEvent) []wxdb.PendingEvent {
	var out []wxdb.PendingEvent
	for _, e := range evts {
		switch e.Type {
		case event.EventMessage.Type, event.EventSticker.Type, event.EventRedaction.Type, event.EventEncrypted.Type:
		default:
			continue
		}
		relType := ""
		if e.Content.RelatesTo != nil {
			relType = e.Content.RelatesTo.Type
		}
		if e.ID == "" || e.Room == "" || !wc.isUserMessage(e.Sender, e.Content.Body, relType, e.Content.DoublePuppetSource) {
			continue
		}
		if p, err := wc.Bridge.GetPortalByMXID(ctx, e.Room); err != nil || p == nil {
			continue
		}
		out = append(out, wxdb.PendingEvent{ID: e.ID, Room: e.Room})
	}
	return out
}

// isUserMessage: what a real user wrote, not the bridge's own events, not what the bridge
// sent as the user (double puppeting), not an edit (refused) and not a command (which must
// never run twice).
func (wc *WeChatConnector) isUserMessage(sender id.UserID, body, relType, doublePuppetSource string) bool {
	switch {
	case doublePuppetSource != "", relType == string(event.RelReplace),
		wc.Bridge.Config.CommandPrefix != "" && strings.HasPrefix(body, wc.Bridge.Config.CommandPrefix),
		sender == wc.Bridge.Bot.GetMXID(), wc.Bridge.IsGhostMXID(sender):
		return false
	}
	return true
}

// recoverMatrixMessages handles, once the login is connected, the messages of its
// portals that the previous process took from the homeserver and never handled.
func (c *WeChatClient) recoverMatrixMessages(ctx context.Context) {
	log := zerolog.Ctx(ctx)
	left, err := c.Main.DB.PendingMatrix.All(ctx)
	if err != nil {
		log.Err(err).Msg("Could not read the Matrix messages left unhandled by the last run")
		return
	}
	mc, ok := c.Main.Bridge.Matrix.(*matrix.Connector)
	if !ok || len(left) == 0 {
		return
	}
	for _, p := range left {
		portal, err := c.Main.Bridge.GetPortalByMXID(ctx, p.Room)
		if err != nil || portal == nil {
			if err == nil {
				c.Main.DB.PendingMatrix.Done(ctx, p.ID)
			}
			continue
		}
		if portal.Receiver != c.Login.ID {
			continue
		}
		if time.Since(p.Received) > pendingMaxAge {
			log.Warn().Stringer("event_id", p.ID).Time("received", p.Received).Msg("Not sending a Matrix message the last run left unhandled: too old")
			c.Main.DB.PendingMatrix.Done(ctx, p.ID)
			continue
		}
		if row, err := c.Main.Bridge.DB.Message.GetPartByMXID(ctx, p.ID); err == nil && row != nil {
			c.Main.DB.PendingMatrix.Done(ctx, p.ID)
			continue
		}
		evt, err := mc.Bot.GetEvent(ctx, p.Room, p.ID)
		if err != nil {
			log.Warn().Err(err).Stringer("event_id", p.ID).Msg("Could not fetch a Matrix message the last run left unhandled")
			continue
		}
		if evt.Sender != c.Login.UserMXID && portal.Relay == nil {
			// Someone else's with no relay to send it: bridgev2 refuses those, and the last
			// run said so if it got that far.
			c.Main.DB.PendingMatrix.Done(ctx, p.ID)
			continue
		}
		_ = evt.Content.ParseRaw(evt.Type)
		if evt.Type == event.EventEncrypted {
			c.recoverEncrypted(ctx, mc, evt)
			c.Main.DB.PendingMatrix.Done(ctx, p.ID)
			continue
		}
		log.Info().Stringer("event_id", p.ID).Stringer("room_id", p.Room).Msg("Handling a Matrix message the last run took but did not handle")
		c.Main.Bridge.QueueMatrixEvent(ctx, evt)
		c.Main.DB.PendingMatrix.Done(ctx, p.ID)
	}
}

// recoverEncrypted handles a leftover m.room.encrypted event: decrypted here only to see
// whether it is a message to send (not a command, an edit or a double-puppeted echo), then
// given to the Matrix connector the way the homeserver would have, which checks the
// sender's permission and device trust, decrypts it and hands it to HandleMatrixMessage.
func (c *WeChatClient) recoverEncrypted(ctx context.Context, mc *matrix.Connector, evt *event.Event) {
	log := zerolog.Ctx(ctx).With().Stringer("event_id", evt.ID).Stringer("room_id", evt.RoomID).Logger()
	if mc.Crypto == nil {
		log.Warn().Msg("Not sending an encrypted Matrix message the last run left unhandled: this bridge has no encryption")
		return
	}
	dec, err := mc.Crypto.Decrypt(ctx, evt)
	if err != nil {
		log.Warn().Err(err).Msg("Could not decrypt a Matrix message the last run left unhandled")
		return
	}
	if dec.Type != event.EventMessage && dec.Type != event.EventSticker {
		return
	}
	var body, relType string
	if m := dec.Content.AsMessage(); m != nil {
		body = m.Body
		if m.RelatesTo != nil {
			relType = string(m.RelatesTo.Type)
		}
	}
	dp, _ := dec.Content.Raw[appservice.DoublePuppetKey].(string)
	if !c.Main.isUserMessage(dec.Sender, body, relType, dp) {
		return
	}
	log.Info().Msg("Handling an encrypted Matrix message the last run took but did not handle")
	mc.EventProcessor.Dispatch(ctx, evt)
}

// prunePendingLoop forgets, while the bridge runs, rows that no handling crossed off:
// events bridgev2 refused before the connector saw them, and encrypted events that were
// no message (double-puppeted echoes, commands). A restart would not send them either
// (older than pendingMaxAge), so the table stays small without changing what is sent.
func (wc *WeChatConnector) prunePendingLoop(ctx context.Context) {
	tick := time.NewTicker(pendingMaxAge)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := wc.DB.PendingMatrix.Prune(ctx, pendingMaxAge); err != nil {
				zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not prune handled Matrix messages")
			}
		}
	}
}

// pendingDone crosses a Matrix event off once the bridge has handled it, whatever the
// outcome (a failure is shown to the user and is not retried at the next start).
func (c *WeChatClient) pendingDone(ctx context.Context, evt *event.Event) {
	if evt != nil {
		c.Main.DB.PendingMatrix.Done(ctx, evt.ID)
	}
}
