package mautrixfix

import (
	"context"
	"sync"

	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/bridgev2/matrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

var _ appservice.StateStore = (*joinedCache)(nil)

// joinedCacheMax bounds the remembered (room, user) pairs; when full, the cache starts
// over. A pair costs ~150 bytes, so this is a few MB at most.
const joinedCacheMax = 20000

// joinedCache answers IsInRoom for pairs the state store already said were joined.
// mautrix's intents ask IsInRoom before every message they send (EnsureJoined), which was
// one SELECT per bridged message, ~5 % of the bridge's CPU per message (test/bench).
//
// Only "joined" answers are kept, and every membership write made through the state store
// (member events from the homeserver, the intents' own joins, leaves, invites and kicks,
// member list refreshes) forgets the pairs it touches first. A read that overlapped a write
// is not kept (gen), so a cached answer is never older than the last write.
type joinedCache struct {
	appservice.StateStore

	mu     sync.Mutex
	gen    uint64
	n      int
	joined map[id.RoomID]map[id.UserID]struct{}
}

func newJoinedCache(inner appservice.StateStore) *joinedCache {
	return &joinedCache{StateStore: inner, joined: map[id.RoomID]map[id.UserID]struct{}{}}
}

// UseJoinedCache puts the cache in front of the appservice's state store. It must run
// before intents other than the bot's are made: each intent keeps the store it was made
// with (Matrix.Init made the bot's; ghosts' and double puppets' are made on first use).
func UseJoinedCache(mc *matrix.Connector) {
	if mc == nil || mc.AS == nil || mc.AS.StateStore == nil {
		return
	}
	if _, ok := mc.AS.StateStore.(*joinedCache); ok {
		return
	}
	c := newJoinedCache(mc.AS.StateStore)
	mc.AS.StateStore = c
	if bot := mc.AS.BotIntent(); bot != nil && bot.Client != nil {
		bot.StateStore = c
	}
}

func (c *joinedCache) IsInRoom(ctx context.Context, roomID id.RoomID, userID id.UserID) bool {
	c.mu.Lock()
	_, ok := c.joined[roomID][userID]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return true
	}
	if !c.StateStore.IsInRoom(ctx, roomID, userID) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return true // a membership write ran meanwhile: true now, but not worth keeping
	}
	if c.n >= joinedCacheMax {
		c.joined = map[id.RoomID]map[id.UserID]struct{}{}
		c.n = 0
	}
	users := c.joined[roomID]
	if users == nil {
		users = map[id.UserID]struct{}{}
		c.joined[roomID] = users
	}
	if _, ok := users[userID]; !ok {
		users[userID] = struct{}{}
		c.n++
	}
	return true
}

// forget drops what is known of userID in roomID, or of everyone in it when userID is "".
// It runs before the write it stands for, and bumps gen so that a read racing the write is
// not kept either.
func (c *joinedCache) forget(roomID id.RoomID, userID id.UserID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	users := c.joined[roomID]
	if userID == "" {
		c.n -= len(users)
		delete(c.joined, roomID)
		return
	}
	if _, ok := users[userID]; ok {
		delete(users, userID)
		c.n--
	}
}

func (c *joinedCache) SetMembership(ctx context.Context, roomID id.RoomID, userID id.UserID, membership event.Membership) error {
	c.forget(roomID, userID)
	defer c.forget(roomID, userID)
	return c.StateStore.SetMembership(ctx, roomID, userID, membership)
}

func (c *joinedCache) SetMember(ctx context.Context, roomID id.RoomID, userID id.UserID, member *event.MemberEventContent) error {
	c.forget(roomID, userID)
	defer c.forget(roomID, userID)
	return c.StateStore.SetMember(ctx, roomID, userID, member)
}

func (c *joinedCache) ClearCachedMembers(ctx context.Context, roomID id.RoomID, memberships ...event.Membership) error {
	c.forget(roomID, "")
	defer c.forget(roomID, "")
	return c.StateStore.ClearCachedMembers(ctx, roomID, memberships...)
}

func (c *joinedCache) ReplaceCachedMembers(ctx context.Context, roomID id.RoomID, evts []*event.Event, onlyMemberships ...event.Membership) error {
	c.forget(roomID, "")
	defer c.forget(roomID, "")
	return c.StateStore.ReplaceCachedMembers(ctx, roomID, evts, onlyMemberships...)
}
