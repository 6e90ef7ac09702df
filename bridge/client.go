package bridge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/networkid"
	"maunium.net/go/mautrix/bridgev2/simplevent"
	"maunium.net/go/mautrix/bridgev2/status"
	"maunium.net/go/mautrix/id"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

var (
	_ bridgev2.NetworkAPI = (*WeChatClient)(nil)
)

// Bridge state error codes, with the text users see.
const (
	StateLoggedOut   status.BridgeStateErrorCode = "wechat-logged-out"
	StateResumeError status.BridgeStateErrorCode = "wechat-resume-failed"
	StateSyncTrouble status.BridgeStateErrorCode = "wechat-sync-trouble"
	// StateSessionRefused: WeChat ended the session soon after its login (relogin.go).
	StateSessionRefused status.BridgeStateErrorCode = "wechat-web-session-refused"
)

func init() {
	status.BridgeStateHumanErrors.Update(status.BridgeStateErrorMap{
		StateLoggedOut:   "The WeChat web session ended (logged out on the phone, logged in elsewhere, or expired). Send `login` to log in again.",
		StateResumeError: "Could not resume the WeChat session",
		StateSyncTrouble: "Having trouble reaching WeChat; retrying",
		StateSessionRefused: "WeChat ended the web session right after login, as it does to many accounts since 2025. " +
			"The bridge does not log in again by itself; send `login` to try once more.",
	})
}

// WeChatClient is one logged-in WeChat account.
type WeChatClient struct {
	Main  *WeChatConnector
	Login *bridgev2.UserLogin
	wx    *protoclient.Client
	// fresh is the webwxinit answer of a login that just completed; Connect uses it
	// instead of resuming.
	fresh *protoclient.InitResponse

	dir *directory
	// failures counts failed attempts per MsgId (chats of a batch run concurrently).
	failuresMu sync.Mutex
	failures   map[string]int
	recent     recentTexts
	// echoes holds the MsgIDs the bridge sent, to drop their echoes (echoes.go).
	echoes sentEchoes
	// recentChats is webwxinit's ChatSet, given rooms once identities are known.
	recentChats []protoclient.UserName
	// replayCheck is on after a resume and after a failed try, until the pipeline has
	// drained what WeChat had to send (replay.go, pipeline.go).
	replayCheck atomic.Bool
	replayMu    sync.Mutex
	replayRooms map[id.RoomID]map[string]id.EventID
	// watchingTags: this login holds a reference on its user's room tag watcher.
	watchingTags atomic.Bool
	// phoneChanging counts, per chat, the batches bringing its phone settings (mute,
	// pin) to Matrix right now; setPinned leaves such a chat alone (changingOnPhone).
	phoneMu       sync.Mutex
	phoneChanging map[protoclient.WxID]int
	// officialIgnored counts the official accounts' messages not bridged (ignore mode).
	officialIgnored atomic.Int64

	loggedIn       atomic.Bool
	reloginRunning atomic.Bool
	runMu          sync.Mutex
	stopSync       context.CancelFunc
	syncDone       chan struct{}
	// pipe carries the running sync's messages to Matrix (pipeline.go).
	pipe *pipeline
	// metaMu: the login's metadata is changed and saved by the pipeline's workers and by
	// the session's end, which may run at the same time.
	metaMu sync.Mutex
}

func newClient(wc *WeChatConnector, login *bridgev2.UserLogin, wx *protoclient.Client) *WeChatClient {
	return &WeChatClient{Main: wc, Login: login, wx: wx, dir: newDirectory(string(login.ID)), failures: map[string]int{}}
}

func (c *WeChatClient) selfID() networkid.UserID { return portal.SelfUserID(c.wx.Uin()) }

// Connect resumes the session (or takes the fresh login), loads contacts and starts the
// sync loop. Failures are reported as bridge states, never returned.
func (c *WeChatClient) Connect(ctx context.Context) {
	log := zerolog.Ctx(ctx)
	c.Login.BridgeState.Send(status.BridgeState{StateEvent: status.StateConnecting})
	init := c.fresh
	c.fresh = nil
	c.replayCheck.Store(init == nil)
	if init == nil {
		if meta := c.meta(); meta.Ended != nil {
			// WeChat ended this session: resuming it would be a retry WeChat sees.
			log.Info().Time("ended_at", meta.Ended.At).Str("how", string(meta.Ended.State)).Msg("WeChat session ended before this start; not resuming it")
			c.Login.BridgeState.Send(meta.endedState(time.Now()))
			return
		}
		var err error
		init, err = c.wx.Resume(ctx)
		if err != nil {
			var lo *protoclient.LoggedOutError
			if errors.As(err, &lo) || errors.Is(err, protoclient.ErrNotLoggedIn) {
				c.loggedOut(ctx, err)
				return
			}
			log.Err(err).Msg("Resuming the WeChat session failed")
			c.Login.BridgeState.Send(status.BridgeState{StateEvent: status.StateUnknownError, Error: StateResumeError, Message: err.Error()})
			return
		}
	}
	if err := c.loadDirectory(ctx, init); err != nil {
		log.Err(err).Msg("Loading WeChat contacts failed; continuing with what is known")
	}
	c.loggedIn.Store(true)
	if !c.watchingTags.Swap(true) {
		c.Main.tags.start(c.Main.Bridge.BackgroundCtx, c.Main, c.Login.User)
	}
	c.recentChats = init.ChatSetNames()
	// Before the sync loop: what the last run sent just before it died may come back as
	// an echo, which is only recognised once the send it belongs to is known.
	c.recoverMatrixMessages(c.Login.Log.WithContext(c.Main.Bridge.BackgroundCtx))
	c.startSync(ctx)
}

// syncRecentChats gives the chats WeChat lists as recent at login a room (or brings an
// existing room up to date), like the chat list the phone shows.
// It runs once the id list of the session is known (the first batch after login, or the
// stored pairs after a restart), since rooms are keyed on permanent ids.
func (c *WeChatClient) syncRecentChats(ctx context.Context, chats []protoclient.UserName) {
	limit := c.Main.Config.RecentChatLimit
	if limit <= 0 {
		return
	}
	n := 0
	for _, u := range chats {
		if n >= limit {
			break
		}
		ct := c.dir.contact(u)
		if ct == nil || ct.IsOfficialAccount() || (isSpecialName(u) && u != "filehelper") || u == c.wx.SelfUserName() {
			continue
		}
		id, proven := c.dir.stableID(u)
		if id == "" || !proven {
			// A room under a derived id could end up next to the real one later.
			continue
		}
		if existing, err := c.Main.Bridge.GetExistingPortalByKey(ctx, portal.MakePortalKey(id, c.Login.ID)); err == nil && existing != nil && existing.MXID != "" {
			// The room exists (a restart): names and members follow from ModContactList.
			continue
		}
		if err := c.Main.roomCreation.Acquire(ctx, 1); err != nil {
			return
		}
		c.Login.QueueRemoteEvent(&simplevent.ChatResync{
			EventMeta: simplevent.EventMeta{
				Type:           bridgev2.RemoteEventChatResync,
				PortalKey:      portal.MakePortalKey(id, c.Login.ID),
				CreatePortal:   true,
				PostHandleFunc: c.pinNewRoom,
			},
			// Read when the portal handles the event, not now: the rooms of a login are
			// made one after another, and a contact renamed meanwhile must not get its old
			// name back from a queued resync.
			GetChatInfoFunc: c.GetChatInfo,
		})
		c.Main.roomCreation.Release(1)
		n++
	}
}

func (c *WeChatClient) startSync(ctx context.Context) {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.stopSync != nil {
		return
	}
	syncCtx, cancel := context.WithCancel(c.Login.Log.WithContext(c.Main.Bridge.BackgroundCtx))
	done := make(chan struct{})
	c.stopSync, c.syncDone = cancel, done
	c.pipe = newPipeline(syncCtx, c, portalConcurrency)
	go func() {
		defer close(done)
		err := c.wx.RunSync(syncCtx, c.handleBatch, protoclient.SyncOptions{OnState: c.onSyncState})
		var lo *protoclient.LoggedOutError
		if errors.As(err, &lo) {
			c.loggedOut(syncCtx, err)
		} else if syncCtx.Err() == nil {
			zerolog.Ctx(syncCtx).Err(err).Msg("WeChat sync loop stopped")
		}
	}()
}

func (c *WeChatClient) onSyncState(s protoclient.SyncState, err error) {
	switch s {
	case protoclient.SyncConnected:
		c.Login.BridgeState.Send(status.BridgeState{StateEvent: status.StateConnected})
	case protoclient.SyncRetrying:
		st := status.BridgeState{StateEvent: status.StateTransientDisconnect, Error: StateSyncTrouble}
		if err != nil {
			st.Message = err.Error()
		}
		c.Login.BridgeState.Send(st)
	}
}

func (c *WeChatClient) Disconnect() {
	if c.watchingTags.Swap(false) {
		c.Main.tags.stop(c.Login.User)
	}
	c.runMu.Lock()
	cancel, done, pipe := c.stopSync, c.syncDone, c.pipe
	c.stopSync, c.syncDone = nil, nil
	c.runMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
		// What the workers had not finished stays after the stored cursor.
		pipe.wait()
	}
}

// drainSync waits until the running sync's messages are all in Matrix (or ctx ends).
func (c *WeChatClient) drainSync(ctx context.Context) {
	c.runMu.Lock()
	pipe := c.pipe
	running := c.stopSync != nil
	c.runMu.Unlock()
	if running {
		if err := pipe.drain(ctx); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Stopped waiting for the WeChat messages still on their way to Matrix")
		}
	}
}

func (c *WeChatClient) IsLoggedIn() bool { return c.loggedIn.Load() }

func (c *WeChatClient) LogoutRemote(ctx context.Context) {
	c.Disconnect()
	if err := c.wx.Logout(ctx); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("webwxlogout failed")
	}
	c.loggedIn.Store(false)
}

func (c *WeChatClient) IsThisUser(_ context.Context, userID networkid.UserID) bool {
	return userID == c.selfID() || (c.dir.selfStable() != "" && portal.ParseUserID(userID) == c.dir.selfStable())
}

// loadDirectory fills the directory at connect: the pairs stored for this session, the
// account, recent chats, the contact list, and the members of every known group.
func (c *WeChatClient) loadDirectory(ctx context.Context, init *protoclient.InitResponse) error {
	stored, err := c.Main.DB.Identity.Load(ctx, c.Login.ID)
	if err != nil {
		return err
	}
	c.dir.learn(stored)
	c.dir.setSelf(init.User.UserName, init.User.HeadImgUrl)
	c.dir.addContacts(init.ContactList)
	contacts, err := c.wx.GetContacts(ctx)
	if err != nil {
		return err
	}
	c.dir.addContacts(contacts)
	groups := map[protoclient.UserName]bool{}
	for _, ct := range append(init.ContactList, contacts...) {
		if ct.IsGroup() {
			groups[ct.UserName] = true
		}
	}
	for _, n := range init.ChatSetNames() {
		if protoclient.IsGroup(n) {
			groups[n] = true
		}
	}
	if len(groups) == 0 {
		return nil
	}
	names := make([]protoclient.UserName, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	details, err := c.wx.BatchGetUsers(ctx, names...)
	c.dir.addContacts(details)
	return err
}
