package bridge

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	// The "sqlite3-fk-wal" driver: the shim registers it in CGO_ENABLED=0 builds,
	// litestream (on top of the shim, via the go.mod replace) in cgo builds.
	_ "github.com/mattn/go-sqlite3"
	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	_ "go.mau.fi/util/dbutil/litestream"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

func openTestDB(t *testing.T, prepare ...string) *dbutil.Database {
	t.Helper()
	raw, err := dbutil.NewWithDialect("file:"+filepath.Join(t.TempDir(), "bridge.db")+"?_txlock=immediate", "sqlite3-fk-wal")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	ctx := context.Background()
	for _, q := range prepare {
		if _, err := raw.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db := raw.Child("wechat_version", upgradeTable, dbutil.ZeroLogger(zerolog.Nop()))
	if err := db.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func dbVersion(t *testing.T, db *dbutil.Database) int {
	t.Helper()
	var v int
	if err := db.QueryRow(context.Background(), "SELECT version FROM wechat_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestUpgrades(t *testing.T) {
	if len(upgradeTable) != 3 {
		t.Fatalf("upgrade table has %d steps, want 3", len(upgradeTable))
	}
	// A fresh database gets the latest schema at once.
	db := openTestDB(t)
	if v := dbVersion(t, db); v != 3 {
		t.Fatalf("fresh database at v%d", v)
	}
	ctx := context.Background()
	for _, table := range []string{"wechat_identity", "wechat_friend_request", "wechat_pending_matrix"} {
		if _, err := db.Exec(ctx, "SELECT 1 FROM "+table+" LIMIT 1"); err != nil {
			t.Fatalf("%s missing: %v", table, err)
		}
	}
	// A v1 database (identities only) gains the later tables and keeps its rows.
	old := openTestDB(t,
		"CREATE TABLE wechat_version (version INTEGER, compat INTEGER)",
		"INSERT INTO wechat_version (version, compat) VALUES (1, 1)",
		`CREATE TABLE wechat_identity (login_id TEXT NOT NULL, user_name TEXT NOT NULL, stable_id TEXT NOT NULL,
			PRIMARY KEY (login_id, user_name))`,
		"INSERT INTO wechat_identity VALUES ('1001', '@bob', 'wxid_bob')",
	)
	if v := dbVersion(t, old); v != 3 {
		t.Fatalf("upgraded database at v%d", v)
	}
	got, err := (&identityStore{db: old}).load(ctx, "1001")
	if err != nil || got["@bob"] != "wxid_bob" {
		t.Fatalf("identities after upgrade: %v %v", got, err)
	}
	s := newFriendRequestStore(old)
	if _, err := s.put(ctx, "1001", pendingFriend{ID: "wxid_x", SessionUser: "@me", UserName: "@x", Ticket: "t", ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := (&pendingMatrixStore{db: old}).add(ctx, []pendingEvent{{ID: "$e", Room: "!r"}}); err != nil {
		t.Fatal(err)
	}
}

// Matrix messages written down before the appservice answers stay until crossed off,
// once each however often the homeserver repeats the transaction; leftovers of a day ago
// are forgotten.
func TestPendingMatrixStore(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	s := &pendingMatrixStore{db: db}
	if err := s.add(ctx, []pendingEvent{{ID: "$a", Room: "!r"}, {ID: "$b", Room: "!r"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.add(ctx, []pendingEvent{{ID: "$a", Room: "!r"}}); err != nil {
		t.Fatalf("the same event again: %v", err)
	}
	s.done(ctx, "$b")
	left, err := s.all(ctx)
	if err != nil || len(left) != 1 || left[0].ID != "$a" || left[0].Room != "!r" {
		t.Fatalf("left after crossing off $b: %+v %v", left, err)
	}
	if err := s.add(ctx, []pendingEvent{{ID: "$new", Room: "!r"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "UPDATE wechat_pending_matrix SET received_at=$1 WHERE event_id='$a'", time.Now().Add(-25*time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := s.prune(ctx, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.all(ctx); len(left) != 1 || left[0].ID != "$new" {
		t.Errorf("after pruning day-old leftovers: %+v, want only $new", left)
	}
}

func TestFriendRequestStore(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	s := newFriendRequestStore(db)
	p := pendingFriend{ID: "wxid_Erin", SessionUser: "@me", UserName: "@erin", Ticket: "v2_t@stranger", WxID: "wxid_Erin",
		NickName: "Erin", Alias: "erin_w", ReceivedAt: time.UnixMilli(1700000000000)}
	if isNew, err := s.put(ctx, "1001", p); err != nil || !isNew {
		t.Fatalf("put = %v %v", isNew, err)
	}
	// The same request again (a retried batch) is not new; a new ticket is.
	if isNew, err := s.put(ctx, "1001", p); err != nil || isNew {
		t.Fatalf("put again = %v %v", isNew, err)
	}
	// After a restart the request is read back from the database, in any case.
	s2 := newFriendRequestStore(db)
	got, ok, err := s2.get(ctx, "1001", "WXID_ERIN")
	if err != nil || !ok || got != p {
		t.Fatalf("after restart: %+v %v %v", got, ok, err)
	}
	if _, ok, _ := s2.get(ctx, "2002", "wxid_Erin"); ok {
		t.Fatal("request visible to another login")
	}
	p2 := p
	p2.Ticket = "v2_new@stranger"
	if isNew, err := s2.put(ctx, "1001", p2); err != nil || !isNew {
		t.Fatalf("new ticket = %v %v", isNew, err)
	}
	if err := s2.remove(ctx, "1001", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := newFriendRequestStore(db).get(ctx, "1001", p.ID); ok {
		t.Fatal("removed request came back")
	}
}

// A friend request received through the protocol is accepted with the command's code
// path; the requester becomes a contact with their real wxid.
func TestAcceptFriend(t *testing.T) {
	db := openTestDB(t)
	wc := &WeChatConnector{DB: db, identities: &identityStore{db: db}, friends: newFriendRequestStore(db)}
	e := newSimEnv(t, wc)
	ctx, c := e.ctx, e.c

	if _, err := e.ctl.FriendRequest(ctx, "wxid_alice", "wxid_erin", "Erin", "Hi, I'm Erin"); err != nil {
		t.Fatal(err)
	}
	var msg *protoclient.Message
	for i := 0; i < 20 && msg == nil; i++ {
		if _, err := e.wx.SyncCheck(ctx); err != nil {
			t.Fatal(err)
		}
		b, err := e.wx.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.wx.Commit(b)
		for i := range b.Messages {
			if b.Messages[i].MsgType == protoclient.MsgVerify {
				msg = &b.Messages[i]
			}
		}
	}
	if msg == nil {
		t.Fatal("no friend request arrived")
	}
	content, req := portal.FriendRequestNotice(msg, msg.Content)
	if req.ID != "wxid_erin" || !req.CanAccept() || !strings.Contains(content.Body, portal.AcceptFriendCommand+" wxid_erin") {
		t.Fatalf("request %+v, notice %q", req, content.Body)
	}
	// What handleFriendRequest stores before announcing it.
	if _, err := wc.friends.put(ctx, c.Login.ID, pendingFriend{ID: req.ID, SessionUser: e.wx.SelfUserName(),
		UserName: req.UserName, Ticket: req.Ticket, WxID: req.WxID, NickName: req.NickName}); err != nil {
		t.Fatal(err)
	}

	if _, err := c.acceptFriend(ctx, "wxid_nobody"); err != errNoSuchFriendRequest {
		t.Fatalf("unknown request: %v", err)
	}
	p, err := c.acceptFriend(ctx, "wxid_erin")
	if err != nil || p.NickName != "Erin" {
		t.Fatalf("accept: %+v %v", p, err)
	}
	reqs, err := e.ctl.FriendRequests(ctx, "wxid_alice")
	if err != nil || len(reqs) != 1 || reqs[0].State != "accepted" {
		t.Fatalf("server side: %+v %v", reqs, err)
	}
	if id, proven := c.dir.stableID(req.UserName); id != "wxid_erin" || !proven {
		t.Fatalf("new contact's id = %q %v", id, proven)
	}
	if stored, _ := wc.identities.load(ctx, c.Login.ID); stored[req.UserName] != "wxid_erin" {
		t.Fatalf("stored identities = %v", stored)
	}
	if _, err := c.acceptFriend(ctx, "wxid_erin"); err != errNoSuchFriendRequest {
		t.Fatalf("accepted twice: %v", err)
	}

	// A request from an earlier web session cannot be accepted here, and says so.
	if _, err := wc.friends.put(ctx, c.Login.ID, pendingFriend{ID: "wxid_old", SessionUser: "@previous-session",
		UserName: "@old", Ticket: "t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.acceptFriend(ctx, "wxid_old"); err == nil || !strings.Contains(err.Error(), "accept it on your phone") {
		t.Fatalf("stale request: %v", err)
	}
	// A ticket WeChat does not know (Ret 1) is explained and forgotten.
	if _, err := wc.friends.put(ctx, c.Login.ID, pendingFriend{ID: "wxid_gone", SessionUser: e.wx.SelfUserName(),
		UserName: "@gone", Ticket: "bogus"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.acceptFriend(ctx, "wxid_gone"); err == nil || !strings.Contains(err.Error(), "no longer accepts") {
		t.Fatalf("bogus ticket: %v", err)
	}
	if _, err := c.acceptFriend(ctx, "wxid_gone"); err != errNoSuchFriendRequest {
		t.Fatalf("bogus ticket kept: %v", err)
	}
	// Not connected: no call to WeChat, and the request stays.
	if _, err := wc.friends.put(ctx, c.Login.ID, pendingFriend{ID: "wxid_later", SessionUser: e.wx.SelfUserName(),
		UserName: "@later", Ticket: "t"}); err != nil {
		t.Fatal(err)
	}
	c.loggedIn.Store(false)
	if _, err := c.acceptFriend(ctx, "wxid_later"); err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Fatalf("offline: %v", err)
	}
	if _, ok, _ := wc.friends.get(ctx, c.Login.ID, "wxid_later"); !ok {
		t.Fatal("offline attempt dropped the request")
	}
}
