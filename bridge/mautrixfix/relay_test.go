package mautrixfix

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/bridgeconfig"
	"maunium.net/go/mautrix/bridgev2/commands"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/networkid"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// replyBot is the bridge bot of a command: it keeps the notices the command answers with.
// Any other call panics (the interface is embedded nil).
type replyBot struct {
	bridgev2.MatrixAPI
	replies []string
}

func (b *replyBot) SendMessage(_ context.Context, _ id.RoomID, _ event.Type, content *event.Content, _ *bridgev2.MatrixSendExtra) (*mautrix.RespSendEvent, error) {
	b.replies = append(b.replies, content.AsMessage().Body)
	return &mautrix.RespSendEvent{EventID: "$reply"}, nil
}

func (b *replyBot) last() string {
	if len(b.replies) == 0 {
		return ""
	}
	return b.replies[len(b.replies)-1]
}

// In a portal of one login, unset-relay stops the relay for the login's owner (bridgev2's
// own command panics there) and only for them or an admin.
func TestUnsetRelayInSplitPortals(t *testing.T) {
	ctx := context.Background()
	raw, updates := newCountingDB(t, "UPDATE portal")
	owner := &database.UserLogin{ID: "1001", UserMXID: "@rosa:example.org", RemoteName: "Rosa"}
	key := networkid.PortalKey{ID: "choir@chatroom", Receiver: owner.ID}
	db := newBridgeDB(t, raw, owner, &database.Portal{PortalKey: key, RelayLoginID: owner.ID})
	br := &bridgev2.Bridge{DB: db, Config: &bridgeconfig.BridgeConfig{}}
	relay := &bridgev2.UserLogin{UserLogin: owner, Bridge: br}
	p := &bridgev2.Portal{Portal: &database.Portal{PortalKey: key, RelayLoginID: owner.ID}, Bridge: br, Relay: relay}
	log := zerolog.Nop()
	command := func(h *commands.FullHandler, who id.UserID, perms bridgeconfig.Permissions) *replyBot {
		bot := &replyBot{}
		h.Func(&commands.Event{Bot: bot, Bridge: br, Portal: p, Ctx: ctx, Log: &log,
			User: &bridgev2.User{User: &database.User{MXID: who}, Permissions: perms}})
		return bot
	}
	stored := func() networkid.UserLoginID {
		t.Helper()
		row, err := db.Portal.GetByKey(ctx, key)
		if err != nil || row == nil {
			t.Fatalf("portal row: %v", err)
		}
		return row.RelayLoginID
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Log("bridgev2's own unset-relay did not panic in a split portal: mautrix-go may have fixed Portal.SetRelay(nil), and UnsetRelayInSplitPortals may go")
			}
		}()
		command(commands.CommandUnsetRelay, owner.UserMXID, bridgeconfig.PermissionLevelUser)
	}()
	p.Relay, p.RelayLoginID = relay, owner.ID
	updates.n.Store(0)

	if r := command(unsetRelay(), "@lou:example.org", bridgeconfig.PermissionLevelUser).last(); !strings.Contains(r, "Only @rosa:example.org") {
		t.Errorf("someone else's unset-relay was answered %q", r)
	}
	if p.Relay == nil || stored() != owner.ID || updates.n.Load() != 0 {
		t.Fatal("someone else stopped Rosa's relay")
	}
	if r := command(unsetRelay(), owner.UserMXID, bridgeconfig.PermissionLevelUser).last(); !strings.Contains(r, "Stopped relaying") || !strings.Contains(r, "Rosa") {
		t.Errorf("the owner's unset-relay was answered %q", r)
	}
	if p.Relay != nil || p.RelayLoginID != "" || stored() != "" {
		t.Fatalf("after unset-relay the portal still relays: %v %q, stored %q", p.Relay, p.RelayLoginID, stored())
	}
	// With no relay left, bridgev2's own command answers (it does not panic there).
	if r := command(unsetRelay(), owner.UserMXID, bridgeconfig.PermissionLevelUser).last(); !strings.Contains(r, "doesn't have a relay") {
		t.Errorf("unset-relay without a relay was answered %q", r)
	}
}

// ExplainRelayedReactions is needed while bridgev2 gives a relayed user's reaction neither
// a reason nor a notice; once it does, the user would get two notices.
func TestRelayedReactionUnexplainedUpstream(t *testing.T) {
	var ms bridgev2.MessageStatus
	if !errors.As(bridgev2.ErrIgnoringReactionFromRelayedUser, &ms) {
		t.Fatal("bridgev2.ErrIgnoringReactionFromRelayedUser is no MessageStatus any more: check ExplainRelayedReactions against this mautrix-go")
	}
	if ms.SendNotice || ms.Message != "" || ms.ErrorAsMessage {
		t.Fatalf("bridgev2 now explains relayed reactions itself (%+v): drop ExplainRelayedReactions", ms)
	}
}
