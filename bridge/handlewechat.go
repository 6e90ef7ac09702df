package bridge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"

	"github.com/mattn/go-sqlite3"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/networkid"
	"maunium.net/go/mautrix/bridgev2/simplevent"

	"wxbridge/bridge/mautrixfix"
	"wxbridge/portal"
	"wxbridge/protoclient"
)

// maxMessageAttempts bounds how often one message may fail to bridge before it is given
// up (logged, and the batch goes on): a message Matrix keeps refusing must not stall the
// whole account.
const maxMessageAttempts = 5

// handleBatch takes one webwxsync batch: identities and contacts at once, messages into
// the pipeline, which bridges them and stores the batch's cursor once they are all done
// (pipeline.go). An error leaves the batch with WeChat, and it comes again.
func (c *WeChatClient) handleBatch(ctx context.Context, b *protoclient.SyncBatch) error {
	if err := c.learnIdentities(ctx, b); err != nil {
		return fmt.Errorf("store identities: %w", err)
	}
	if chats := c.recentChats; chats != nil && c.dir.knowsIdentities() {
		c.recentChats = nil
		// Room creation takes a while per room; messages must not wait for it.
		go c.syncRecentChats(ctx, chats)
	}
	// What each entry changes is against the one before it in the batch: a contact twice
	// in one batch must not have its mute applied twice (phoneChanges).
	before := make([]*protoclient.Contact, len(b.ModContacts))
	latest := map[protoclient.UserName]*protoclient.Contact{}
	for i := range b.ModContacts {
		u := b.ModContacts[i].UserName
		if prev, ok := latest[u]; ok {
			before[i] = prev
		} else {
			before[i] = c.dir.contact(u)
		}
		latest[u] = &b.ModContacts[i]
	}
	changed := c.changingOnPhone(b.ModContacts)
	c.dir.addContacts(b.ModContacts)
	if len(b.DelContacts) > 0 {
		// Messages of a chat about to be forgotten may still wait in the pipeline.
		if err := c.pipe.drain(ctx); err != nil {
			changed()
			return err
		}
	}
	for _, d := range b.DelContacts {
		c.dir.removeContact(d.UserName)
	}
	for i := range b.ModContacts {
		c.contactChanged(ctx, &b.ModContacts[i], before[i])
	}
	changed()
	return c.pipe.add(ctx, b, c.wx.SessionAfter(b))
}

// changingOnPhone marks the chats of a batch's contact changes until the returned func
// runs. From the moment the directory knows a chat's new phone settings until its room
// shows them, the room's tags and the phone differ because the bridge is not done, not
// because the user changed anything, and setPinned must not send the old state back.
// The marks are set before the directory learns the changes, and setPinned reads both
// under phoneMu, so it sees either the old phone with the old room, a mark, or the new
// phone with the new room.
func (c *WeChatClient) changingOnPhone(cs []protoclient.Contact) (done func()) {
	if len(cs) == 0 {
		// Most batches change no contact; the sync loop need not lock or allocate for them.
		return func() {}
	}
	ids := make([]protoclient.WxID, 0, len(cs))
	c.phoneMu.Lock()
	defer c.phoneMu.Unlock()
	for i := range cs {
		if id, _ := c.dir.stableID(cs[i].UserName); id != "" {
			if c.phoneChanging == nil {
				c.phoneChanging = map[protoclient.WxID]int{}
			}
			c.phoneChanging[id]++
			ids = append(ids, id)
		}
	}
	return func() {
		c.phoneMu.Lock()
		defer c.phoneMu.Unlock()
		for _, id := range ids {
			if c.phoneChanging[id]--; c.phoneChanging[id] <= 0 {
				delete(c.phoneChanging, id)
			}
		}
	}
}

// learnIdentities takes the MsgType 51 op-4 lists first, so the messages of the same
// batch already resolve to stable ids.
func (c *WeChatClient) learnIdentities(ctx context.Context, b *protoclient.SyncBatch) error {
	learned := map[protoclient.UserName]protoclient.WxID{}
	for _, ev := range b.Events {
		list, ok := ev.Content.(*protoclient.IDList)
		if !ok {
			continue
		}
		if list.Err != nil {
			zerolog.Ctx(ctx).Warn().Err(list.Err).Str("msg_id", ev.Info.ID).Msg("Unusable WeChat id list")
			continue
		}
		for u, id := range list.Pairs {
			learned[u] = id
		}
	}
	if len(learned) == 0 {
		return nil
	}
	c.dir.learn(learned)
	return c.Main.DB.Identity.Put(ctx, c.Login.ID, learned)
}

// incoming is what the converter needs of a WeChat message.
type incoming struct {
	ev          *protoclient.Event
	senderNames []string // the names WeChat may show for the sender, for quotes
	derivedID   bool     // WeChat proved no permanent id for the chat
	sender      networkid.UserID
	lead        string // the chat's name, in a room several chats share
}

func (c *WeChatClient) handleMessage(ctx context.Context, ev *protoclient.Event) error {
	info := ev.Info
	log := zerolog.Ctx(ctx).With().Str("msg_id", info.ID).Stringer("msg_type", info.Type).Logger()
	switch ev.Content.(type) {
	case *protoclient.PhoneState, *protoclient.IDList:
		// Phone-side state, not chat messages.
		return nil
	}
	chat, sender, fromMe := info.Chat, info.Sender, info.FromMe
	if fromMe && c.echoes.take(ctx, info.ID) {
		return nil
	}
	if chat == "" {
		log.Warn().Msg("WeChat message without a chat; dropping it")
		return nil
	}
	c.ensureKnown(ctx, chat, sender)
	chatID, proven := c.dir.stableID(chat)
	if chatID == "" {
		log.Warn().Msg("WeChat message in a chat the session does not know; dropping it")
		return nil
	}
	if !proven {
		log.Debug().Str("chat_id", string(chatID)).Msg("No permanent WeChat id for this chat; using a derived one")
	}
	route := c.routeChat(ctx, chat, chatID, fromMe)
	if route.drop {
		return nil
	}
	evtSender := c.eventSender(chat, sender, fromMe, chatID)
	if route.lead != "" && !fromMe {
		// The shared room is the bot's: the message names its account itself.
		evtSender = bridgev2.EventSender{}
	}
	switch x := ev.Content.(type) {
	case *protoclient.Revoke:
		if x.MsgID != "" {
			return c.queue(ctx, info, &simplevent.MessageRemove{
				EventMeta: simplevent.EventMeta{
					Type:      bridgev2.RemoteEventMessageRemove,
					PortalKey: route.key,
					Sender:    evtSender,
					Timestamp: info.Time,
				},
				TargetMessage: portal.MakeMessageID(x.MsgID),
			})
		}
		// Unreadable or "the sender's last message": show WeChat's text as a notice.
	case *protoclient.FriendRequest:
		return c.handleFriendRequest(ctx, info, x)
	}
	evt := &simplevent.Message[*incoming]{
		EventMeta: simplevent.EventMeta{
			Type:         bridgev2.RemoteEventMessage,
			PortalKey:    route.key,
			Sender:       evtSender,
			CreatePortal: true,
			Timestamp:    info.Time,
			LogContext: func(lc zerolog.Context) zerolog.Context {
				return lc.Str("wechat_msg_id", info.ID).Stringer("wechat_msg_type", info.Type)
			},
			PreHandleFunc:  mautrixfix.GrowEventStack,
			PostHandleFunc: c.pinNewRoom,
		},
		ID: portal.MakeMessageID(info.ID),
		Data: &incoming{ev: ev, senderNames: c.senderNames(chat, sender, fromMe),
			derivedID: !proven, sender: evtSender.Sender, lead: route.lead},
		ConvertMessageFunc: c.convertIncoming,
	}
	return c.queue(ctx, info, evt)
}

// queue hands one event to its portal and reports whether the batch may go on.
func (c *WeChatClient) queue(ctx context.Context, info protoclient.MessageInfo, evt bridgev2.RemoteEvent) error {
	log := zerolog.Ctx(ctx).With().Str("msg_id", info.ID).Stringer("msg_type", info.Type).Logger()
	res := c.Login.QueueRemoteEvent(evt)
	c.failuresMu.Lock()
	defer c.failuresMu.Unlock()
	if res.Success || res.Ignored {
		delete(c.failures, info.ID)
		return nil
	}
	if transientMatrixError(res.Error) || databaseError(res.Error) {
		// The homeserver is unreachable or overloaded, or the bridge's own database is
		// busy or gone: keep the cursor and retry, however long it takes; nothing may be
		// lost to an outage.
		return fmt.Errorf("bridging WeChat message %s: %w", info.ID, orUnknown(res.Error))
	}
	c.failures[info.ID]++
	if c.failures[info.ID] >= maxMessageAttempts {
		log.Error().Err(res.Error).Int("attempts", c.failures[info.ID]).Msg("Giving up on a WeChat message that keeps failing to bridge")
		delete(c.failures, info.ID)
		return nil
	}
	return fmt.Errorf("bridging WeChat message %s: %w", info.ID, orUnknown(res.Error))
}

func orUnknown(err error) error {
	if err == nil {
		return fmt.Errorf("portal did not handle it")
	}
	return err
}

func (c *WeChatClient) eventSender(chat, sender protoclient.UserName, fromMe bool, chatID protoclient.WxID) bridgev2.EventSender {
	switch {
	case fromMe:
		return bridgev2.EventSender{IsFromMe: true, SenderLogin: c.Login.ID, Sender: c.selfID()}
	case sender == "":
		return bridgev2.EventSender{}
	case protoclient.IsGroup(chat):
		return bridgev2.EventSender{Sender: portal.MakeUserID(c.dir.memberID(chat, sender))}
	default:
		return bridgev2.EventSender{Sender: portal.MakeUserID(chatID)}
	}
}

// ensureKnown fetches a chat or group member the session has not seen yet, so its room
// and ghost get real names.
func (c *WeChatClient) ensureKnown(ctx context.Context, chat, sender protoclient.UserName) {
	var fetch []protoclient.UserName
	if c.dir.contact(chat) == nil && !isSpecialName(chat) {
		fetch = append(fetch, chat)
	} else if protoclient.IsGroup(chat) && sender != "" && sender != c.wx.SelfUserName() {
		if _, ok := c.dir.groupMember(chat, sender); !ok {
			fetch = append(fetch, chat)
		}
	}
	if len(fetch) == 0 {
		return
	}
	got, err := c.wx.BatchGetUsers(ctx, fetch...)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Fetching an unknown WeChat chat failed")
		return
	}
	c.dir.addContacts(got)
}

// senderNames lists the names a WeChat quote may show for a sender.
func (c *WeChatClient) senderNames(chat, sender protoclient.UserName, fromMe bool) []string {
	var names []string
	add := func(n string) {
		if n != "" {
			names = append(names, n)
		}
	}
	if fromMe {
		add(c.Login.RemoteName)
		sender = c.wx.SelfUserName()
	}
	if protoclient.IsGroup(chat) {
		if m, ok := c.dir.groupMember(chat, sender); ok {
			add(m.DisplayName)
			add(m.NickName)
		}
	}
	if ct := c.dir.contact(sender); ct != nil {
		add(ct.NickName)
		add(ct.RemarkName)
	}
	return names
}

// contactChanged applies a ModContactList entry: new names and members reach existing
// rooms and ghosts, and a chat muted or pinned on the phone (before is what the session
// knew until now) is muted or tagged in Matrix.
func (c *WeChatClient) contactChanged(ctx context.Context, ct, before *protoclient.Contact) {
	id, _ := c.dir.stableID(ct.UserName)
	if id == "" {
		return
	}
	local := phoneChanges(before, ct)
	if ct.IsGroup() {
		info := c.groupChatInfo(ct)
		info.UserLocal = local
		c.Login.QueueRemoteEvent(&simplevent.ChatInfoChange{
			EventMeta: simplevent.EventMeta{
				Type:      bridgev2.RemoteEventChatInfoChange,
				PortalKey: portal.MakePortalKey(id, c.Login.ID),
			},
			ChatInfoChange: &bridgev2.ChatInfoChange{ChatInfo: info},
		})
		return
	}
	ghost, err := c.Main.Bridge.GetExistingGhostByID(ctx, portal.MakeUserID(id))
	if err != nil || ghost == nil {
		return
	}
	key := portal.MakePortalKey(id, c.Login.ID)
	if dm, err := c.Main.Bridge.GetExistingPortalByKey(ctx, key); err != nil || dm == nil || dm.MXID == "" {
		ghost.UpdateInfo(ctx, c.contactUserInfo(ct, id))
		return
	}
	// The DM room follows too: a new or removed remark name renames it
	// (remark_names_in_dms); dmChatInfo updates the ghost first.
	info := c.dmChatInfo(ctx, ct, id)
	info.UserLocal = local
	c.Login.QueueRemoteEvent(&simplevent.ChatInfoChange{
		EventMeta:      simplevent.EventMeta{Type: bridgev2.RemoteEventChatInfoChange, PortalKey: key},
		ChatInfoChange: &bridgev2.ChatInfoChange{ChatInfo: info},
	})
}

// transientMatrixError tells an outage (no answer, 5xx, 429) from a refusal that will
// not change on retry (4xx, a conversion failure).
func transientMatrixError(err error) bool {
	if err == nil {
		return false
	}
	var he mautrix.HTTPError
	var hep *mautrix.HTTPError
	switch {
	case errors.As(err, &he):
	case errors.As(err, &hep):
		he = *hep
	default:
		var ne net.Error
		return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
	}
	if he.Response == nil {
		return true
	}
	return he.Response.StatusCode == 429 || he.Response.StatusCode >= 500
}

// databaseError tells a failure of the bridge's own database (locked past the busy
// timeout, a lost PostgreSQL connection, a full disk) from a refusal of the message
// itself. It is never the message's fault, so it is retried rather than counted.
func databaseError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, bridgev2.ErrDatabaseError) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrIoErr, sqlite3.ErrFull, sqlite3.ErrCantOpen:
			return true
		}
	}
	return false
}

// reportMalformed tells the user about messages WeChat sent in a form the bridge could
// not read, instead of losing them silently; the rest of the batch is bridged anyway.
func (c *WeChatClient) reportMalformed(ctx context.Context, entries []protoclient.MalformedEntry) {
	for _, e := range entries {
		zerolog.Ctx(ctx).Warn().Err(e.Err).Str("kind", e.Kind).Str("msg_id", e.MsgID).Int("size", e.Size).
			Msg("WeChat sent an entry the bridge cannot read")
		if e.Kind != protoclient.MalformedMessage {
			continue
		}
		who := ""
		if e.FromUserName != "" {
			if ct := c.dir.contact(e.FromUserName); ct != nil {
				who = " from " + ct.NickName
			}
		}
		text := "A WeChat message" + who + " arrived in a form the bridge cannot read"
		if e.MsgID != "" {
			text += " (id " + e.MsgID + ")"
		}
		text += "; open WeChat on your phone to see it."
		c.notice(ctx, text)
	}
}
