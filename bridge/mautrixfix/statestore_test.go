package mautrixfix

import (
	"context"
	"fmt"
	"testing"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/bridgev2/matrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/sqlstatestore"
)

// newTestStateStore is mautrix's SQL state store on a new database, counting its membership
// reads.
func newTestStateStore(t *testing.T) (*sqlstatestore.SQLStateStore, *queryCounter) {
	t.Helper()
	raw, reads := newCountingDB(t, "SELECT membership FROM mx_user_profile")
	store := sqlstatestore.NewSQLStateStore(raw, dbutil.NoopLogger, true)
	if err := store.Upgrade(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store, reads
}

const (
	testRoom  = id.RoomID("!chat:example.org")
	testGhost = id.UserID("@wechat_bob:example.org")
)

func memberEvent(user id.UserID, m event.Membership) *event.Event {
	sk := user.String()
	return &event.Event{Type: event.StateMember, RoomID: testRoom, StateKey: &sk,
		Content: event.Content{Parsed: &event.MemberEventContent{Membership: m}}}
}

// A ghost that sends five messages into a room it is in is looked up in the database once,
// and every way its membership can change (a member event, a leave of its own, a refreshed
// member list) is seen by the next send.
func TestJoinedCache(t *testing.T) {
	ctx := context.Background()
	store, reads := newTestStateStore(t)
	c := newJoinedCache(store)
	set := func(m event.Membership) {
		t.Helper()
		if err := c.SetMembership(ctx, testRoom, testGhost, m); err != nil {
			t.Fatal(err)
		}
	}
	// expect checks what the next send would be told, after what.
	expect := func(in bool, after string) {
		t.Helper()
		if got := c.IsInRoom(ctx, testRoom, testGhost); got != in {
			t.Fatalf("after %s: ghost in the room = %v, want %v", after, got, in)
		}
	}
	set(event.MembershipJoin)
	reads.n.Store(0)
	for range 5 {
		expect(true, "joining")
	}
	if n := reads.n.Load(); n != 1 {
		t.Fatalf("5 sends read the ghost's membership %d times, want 1", n)
	}

	// Kicked: the member event from the homeserver goes through SetMember.
	mautrixUpdate(ctx, c, memberEvent(testGhost, event.MembershipLeave))
	expect(false, "a leave event")
	set(event.MembershipJoin)
	expect(true, "joining again")
	set(event.MembershipLeave)
	expect(false, "leaving")

	// A fetched member list replaces what was known of the room.
	set(event.MembershipJoin)
	expect(true, "joining again")
	if err := c.ReplaceCachedMembers(ctx, testRoom, []*event.Event{memberEvent(testGhost, event.MembershipBan)}); err != nil {
		t.Fatal(err)
	}
	expect(false, "a member list saying banned")
	set(event.MembershipJoin)
	expect(true, "joining again")
	if err := c.ClearCachedMembers(ctx, testRoom); err != nil {
		t.Fatal(err)
	}
	expect(false, "the room's members were cleared")
}

// mautrixUpdate applies a state event the way the appservice does for a transaction.
func mautrixUpdate(ctx context.Context, store appservice.StateStore, evt *event.Event) {
	mautrix.UpdateStateStore(ctx, store, evt)
}

// racingStore lets a write happen while the cache's read of the database is under way.
type racingStore struct {
	appservice.StateStore
	during func()
}

func (r *racingStore) IsInRoom(ctx context.Context, roomID id.RoomID, userID id.UserID) bool {
	in := r.StateStore.IsInRoom(ctx, roomID, userID)
	if f := r.during; f != nil {
		r.during = nil
		f()
	}
	return in
}

// A "joined" read that a leave overtook must not be remembered: the next send would skip
// joining a room the ghost is no longer in.
func TestJoinedCacheReadRacingWrite(t *testing.T) {
	ctx := context.Background()
	store, _ := newTestStateStore(t)
	inner := &racingStore{StateStore: store}
	c := newJoinedCache(inner)
	if err := c.SetMembership(ctx, testRoom, testGhost, event.MembershipJoin); err != nil {
		t.Fatal(err)
	}
	inner.during = func() {
		if err := c.SetMembership(ctx, testRoom, testGhost, event.MembershipLeave); err != nil {
			t.Error(err)
		}
	}
	if !c.IsInRoom(ctx, testRoom, testGhost) {
		t.Fatal("the read before the leave should still say joined")
	}
	if c.IsInRoom(ctx, testRoom, testGhost) {
		t.Fatal("the cache kept a joined read that a leave overtook")
	}
}

// alwaysJoined says everyone is in every room, without a database.
type alwaysJoined struct{ appservice.StateStore }

func (alwaysJoined) IsInRoom(context.Context, id.RoomID, id.UserID) bool { return true }

// The cache is full: it starts over rather than growing without bound, and still answers.
func TestJoinedCacheBounded(t *testing.T) {
	ctx := context.Background()
	c := newJoinedCache(alwaysJoined{})
	for i := range joinedCacheMax + 10 {
		u := id.UserID(fmt.Sprintf("@wechat_%d:example.org", i%500))
		r := id.RoomID(fmt.Sprintf("!r%d:example.org", i/500))
		if !c.IsInRoom(ctx, r, u) {
			t.Fatalf("pair %d not in room", i)
		}
		if c.n > joinedCacheMax {
			t.Fatalf("cache holds %d pairs, bound %d", c.n, joinedCacheMax)
		}
	}
	if c.n != 10 {
		t.Fatalf("after starting over the cache holds %d pairs, want the 10 asked since", c.n)
	}
}

// UseJoinedCache reaches the appservice and the bot intent Matrix.Init already made.
func TestUseJoinedCache(t *testing.T) {
	store, _ := newTestStateStore(t)
	as := appservice.Create()
	as.Registration = &appservice.Registration{SenderLocalpart: "wechatbot", AppToken: "t"}
	as.HomeserverDomain = "example.org"
	as.StateStore = store
	bot := as.BotIntent()
	mc := &matrix.Connector{AS: as}
	UseJoinedCache(mc)
	UseJoinedCache(mc) // twice: still one layer
	c, ok := as.StateStore.(*joinedCache)
	if !ok {
		t.Fatalf("appservice state store is %T", as.StateStore)
	}
	if _, nested := c.StateStore.(*joinedCache); nested {
		t.Fatal("the cache was put in front of itself")
	}
	if bot.StateStore != c {
		t.Fatalf("the bot intent still uses %T", bot.StateStore)
	}
	if ghost := as.Intent(testGhost); ghost.StateStore != c {
		t.Fatalf("a ghost intent made later uses %T", ghost.StateStore)
	}
}
