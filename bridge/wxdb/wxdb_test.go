package wxdb

import (
	// The "sqlite3-fk-wal" driver: the shim registers it in CGO_ENABLED=0 builds,
	// litestream (on top of the shim, via the go.mod replace) in cgo builds.
	"context"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	_ "go.mau.fi/util/dbutil/litestream"
)

func openTestDB(t *testing.T, prepare ...string) *Database {
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
	db := New(raw, zerolog.Nop())
	if err := db.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func dbVersion(t *testing.T, db *Database) int {
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
	got, err := old.Identity.Load(ctx, "1001")
	if err != nil || got["@bob"] != "wxid_bob" {
		t.Fatalf("identities after upgrade: %v %v", got, err)
	}
	if _, err := old.FriendRequest.Put(ctx, "1001", FriendRequest{ID: "wxid_x", SessionUser: "@me", UserName: "@x", Ticket: "t", ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := old.PendingMatrix.Add(ctx, []PendingEvent{{ID: "$e", Room: "!r"}}); err != nil {
		t.Fatal(err)
	}
}

// Matrix messages written down before the appservice answers stay until crossed off,
// once each however often the homeserver repeats the transaction; leftovers of a day ago
// are forgotten.
func TestPendingMatrixStore(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	s := db.PendingMatrix
	if err := s.Add(ctx, []PendingEvent{{ID: "$a", Room: "!r"}, {ID: "$b", Room: "!r"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, []PendingEvent{{ID: "$a", Room: "!r"}}); err != nil {
		t.Fatalf("the same event again: %v", err)
	}
	s.Done(ctx, "$b")
	left, err := s.All(ctx)
	if err != nil || len(left) != 1 || left[0].ID != "$a" || left[0].Room != "!r" {
		t.Fatalf("left after crossing off $b: %+v %v", left, err)
	}
	if err := s.Add(ctx, []PendingEvent{{ID: "$new", Room: "!r"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "UPDATE wechat_pending_matrix SET received_at=$1 WHERE event_id='$a'", time.Now().Add(-25*time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(ctx, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.All(ctx); len(left) != 1 || left[0].ID != "$new" {
		t.Errorf("after pruning day-old leftovers: %+v, want only $new", left)
	}
}

func TestFriendRequestStore(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	s := newFriendRequestQuery(db.Database)
	p := FriendRequest{ID: "wxid_Erin", SessionUser: "@me", UserName: "@erin", Ticket: "v2_t@stranger", WxID: "wxid_Erin",
		NickName: "Erin", Alias: "erin_w", ReceivedAt: time.UnixMilli(1700000000000)}
	if isNew, err := s.Put(ctx, "1001", p); err != nil || !isNew {
		t.Fatalf("put = %v %v", isNew, err)
	}
	// The same request again (a retried batch) is not new; a new ticket is.
	if isNew, err := s.Put(ctx, "1001", p); err != nil || isNew {
		t.Fatalf("put again = %v %v", isNew, err)
	}
	// After a restart the request is read back from the database, in any case.
	s2 := newFriendRequestQuery(db.Database)
	got, ok, err := s2.Get(ctx, "1001", "WXID_ERIN")
	if err != nil || !ok || got != p {
		t.Fatalf("after restart: %+v %v %v", got, ok, err)
	}
	if _, ok, _ := s2.Get(ctx, "2002", "wxid_Erin"); ok {
		t.Fatal("request visible to another login")
	}
	p2 := p
	p2.Ticket = "v2_new@stranger"
	if isNew, err := s2.Put(ctx, "1001", p2); err != nil || !isNew {
		t.Fatalf("new ticket = %v %v", isNew, err)
	}
	if err := s2.Delete(ctx, "1001", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := newFriendRequestQuery(db.Database).Get(ctx, "1001", p.ID); ok {
		t.Fatal("removed request came back")
	}
}
