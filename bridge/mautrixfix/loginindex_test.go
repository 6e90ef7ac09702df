package mautrixfix

import (
	"context"
	"strings"
	"testing"

	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/networkid"
	"maunium.net/go/mautrix/id"
)

// At a start bridgev2 asks for each user's logins; without the index SQLite reads every
// login's row for each user. The first plan is the reason for the workaround: when a
// mautrix-go version indexes the query itself, it fails, and IndexLoginsByUser can go.
func TestIndexLoginsByUser(t *testing.T) {
	ctx := context.Background()
	raw, _ := newCountingDB(t, "user_login")
	db := newBridgeDB(t, raw, &database.UserLogin{ID: "1001", UserMXID: "@alice:example.org"},
		&database.Portal{PortalKey: networkid.PortalKey{ID: "wxid_bob", Receiver: "1001"}})
	for i, u := range []id.UserID{"@bob:example.org", "@carol:example.org"} {
		if err := db.User.Insert(ctx, &database.User{MXID: u}); err != nil {
			t.Fatal(err)
		}
		if err := db.UserLogin.Insert(ctx, &database.UserLogin{ID: networkid.UserLoginID(string(rune('a' + i))), UserMXID: u}); err != nil {
			t.Fatal(err)
		}
	}
	plan := func() string {
		t.Helper()
		rows, err := db.Query(ctx, "EXPLAIN QUERY PLAN SELECT id FROM user_login WHERE bridge_id=$1 AND user_mxid=$2", "wechat", "@bob:example.org")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var a, b, c int
			var detail string
			if err := rows.Scan(&a, &b, &c, &detail); err != nil {
				t.Fatal(err)
			}
			out = append(out, detail)
		}
		return strings.Join(out, "; ")
	}
	// The primary key's index finds the rows of the bridge, which are all of them.
	if p := plan(); strings.Contains(p, "user_mxid=?") {
		t.Fatalf("without the workaround a user's logins are found by %q: mautrix indexes them now, drop IndexLoginsByUser", p)
	}
	for range 2 { // the second start finds the index there
		if err := IndexLoginsByUser(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	if p := plan(); !strings.Contains(p, "USING INDEX "+loginUserIndex+" (bridge_id=? AND user_mxid=?)") {
		t.Fatalf("with the index a user's logins are found by %q", p)
	}
	got, err := db.UserLogin.GetAllForUser(ctx, "@bob:example.org")
	if err != nil || len(got) != 1 || got[0].ID != "a" {
		t.Fatalf("bob's logins: %+v %v", got, err)
	}
}
