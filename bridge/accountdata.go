package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/matrix"
	"maunium.net/go/mautrix/event"
)

// A homeserver sends an appservice the rooms' events, but not a user's room tags: those
// are account data, which only the user's own /sync carries. So that marking a portal as
// a favourite in Matrix pins the chat on the phone, the bridge follows each logged-in
// user's room tags through their double puppet: one long poll per user, filtered down to
// m.tag, whose changes go through bridgev2 like any Matrix event (HandleRoomTag).
//
// The first answer is only the starting point: tags set while the bridge was not
// watching are not replayed, since the bridge cannot tell which side changed last, and
// pinning every such chat on start-up would be a burst of changes WeChat never saw a
// person make.

// tagFilter keeps nothing of /sync but the rooms' m.tag account data. The global
// account_data filter names m.tag too (there is no global m.tag to let through):
// Dendrite filters rooms' account data with it as well.
const tagFilter = `{"presence":{"types":[]},"account_data":{"types":["m.tag"]},` +
	`"room":{"timeline":{"limit":0,"types":[]},"state":{"types":[]},"ephemeral":{"types":[]},` +
	`"account_data":{"types":["m.tag"]}}}`

const (
	tagPollTimeout = 30 * time.Second
	tagRetryMin    = time.Second
	tagRetryMax    = 2 * time.Minute
)

// tagWatchers runs one watcher per Matrix user while any of their logins is connected.
type tagWatchers struct {
	mu    sync.Mutex
	users map[*bridgev2.User]*tagWatch
}

type tagWatch struct {
	refs   int
	cancel context.CancelFunc
}

func (w *tagWatchers) start(ctx context.Context, wc *WeChatConnector, user *bridgev2.User) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.users == nil {
		w.users = map[*bridgev2.User]*tagWatch{}
	}
	if tw := w.users[user]; tw != nil {
		tw.refs++
		return
	}
	log := zerolog.Ctx(ctx).With().Str("action", "watch room tags").Stringer("user_mxid", user.MXID).Logger()
	if puppetClient(ctx, user) == nil {
		// Without double puppeting the bridge cannot read the user's tags; a watcher
		// waiting for one would cost every such login a goroutine. Double puppeting set
		// up later (login-matrix) is seen at the next connect.
		log.Debug().Msg("No double puppet: favourites set in Matrix do not pin WeChat chats")
		return
	}
	ctx, cancel := context.WithCancel(log.WithContext(ctx))
	w.users[user] = &tagWatch{refs: 1, cancel: cancel}
	go wc.watchTags(ctx, user)
}

func (w *tagWatchers) stop(user *bridgev2.User) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tw := w.users[user]
	if tw == nil {
		return
	}
	if tw.refs--; tw.refs == 0 {
		tw.cancel()
		delete(w.users, user)
	}
}

// watchTags long-polls the user's /sync for m.tag changes until ctx ends.
func (wc *WeChatConnector) watchTags(ctx context.Context, user *bridgev2.User) {
	log := zerolog.Ctx(ctx)
	since := ""
	wait := tagRetryMin
	for ctx.Err() == nil {
		client := puppetClient(ctx, user)
		if client == nil {
			log.Debug().Msg("Double puppeting ended: no longer reading the user's room tags")
			return
		}
		resp, err := client.FullSyncRequest(ctx, mautrix.ReqSync{
			Since: since, Timeout: int(tagPollTimeout / time.Millisecond), FilterID: tagFilter,
			// The bridge reading tags must not make the user look online.
			SetPresence: event.PresenceOffline,
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn().Err(err).Dur("retry_in", wait).Msg("Reading the user's room tags failed")
			if !pause(ctx, wait) {
				return
			}
			wait = min(wait*2, tagRetryMax)
			continue
		}
		wait = tagRetryMin
		if since != "" {
			wc.tagsChanged(ctx, user, resp)
		}
		since = resp.NextBatch
	}
}

func (wc *WeChatConnector) tagsChanged(ctx context.Context, user *bridgev2.User, resp *mautrix.RespSync) {
	for roomID, room := range resp.Rooms.Join {
		for _, evt := range room.AccountData.Events {
			if evt.Type.Type != event.AccountDataRoomTags.Type {
				continue
			}
			evt.Type = event.AccountDataRoomTags
			evt.RoomID = roomID
			evt.Sender = user.MXID
			if err := evt.Content.ParseRaw(evt.Type); err != nil {
				zerolog.Ctx(ctx).Warn().Err(err).Stringer("room_id", roomID).Msg("Unreadable room tags")
				continue
			}
			wc.Bridge.QueueMatrixEvent(ctx, evt)
		}
	}
}

// puppetClient is the Matrix client acting as the user (double puppeting), or nil.
func puppetClient(ctx context.Context, user *bridgev2.User) *mautrix.Client {
	if user == nil {
		return nil
	}
	intent, ok := user.DoublePuppet(ctx).(*matrix.ASIntent)
	if !ok || intent == nil || intent.Matrix == nil {
		return nil
	}
	return intent.Matrix.Client
}

// pause waits d unless ctx ends first; it reports whether to go on.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
