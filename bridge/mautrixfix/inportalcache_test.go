package mautrixfix

import (
	"context"
	"testing"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/networkid"
)

// A login made by User.NewLogin (a QR login in this process) must not write its user_portal
// row again for every WeChat message: mautrix-go v0.32.0 builds such logins without the cache
// that prevents it, and EnsureInPortalCache supplies it.
func TestNewLoginInPortalCache(t *testing.T) {
	ctx := context.Background()
	raw, counter := newCountingDB(t, "INSERT INTO user_portal")
	dbLogin := &database.UserLogin{ID: "1001", UserMXID: "@alice:example.org", RemoteName: "Alice"}
	key := networkid.PortalKey{ID: "wxid_bob", Receiver: dbLogin.ID}
	br := &bridgev2.Bridge{DB: newBridgeDB(t, raw, dbLogin, &database.Portal{PortalKey: key})}
	portal := &bridgev2.Portal{Portal: &database.Portal{PortalKey: key}, Bridge: br}

	mark := func(ul *bridgev2.UserLogin) int32 {
		counter.n.Store(0)
		for range 5 {
			ul.MarkInPortal(ctx, portal)
		}
		return counter.n.Load()
	}
	// What User.NewLogin builds (its fields, no cache): the upstream behaviour this works around.
	if n := mark(&bridgev2.UserLogin{UserLogin: dbLogin, Bridge: br}); n != 5 {
		t.Logf("without the fix: %d user_portal writes for 5 messages; mautrix-go may have fixed NewLogin", n)
	}
	ul := &bridgev2.UserLogin{UserLogin: dbLogin, Bridge: br}
	if !EnsureInPortalCache(ul) {
		t.Fatal("EnsureInPortalCache found no inPortalCache field of the expected type: check bridgev2.UserLogin of this mautrix-go version")
	}
	if n := mark(ul); n != 1 {
		t.Fatalf("5 messages in one portal wrote its user_portal row %d times, want 1", n)
	}
}
