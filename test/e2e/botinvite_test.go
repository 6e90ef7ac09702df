//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"wxbridge/test/harness"
)

// TestBotJoinRefusedThenRetried: the homeserver refuses the bot's join right after it
// pushed the bot's invitation, as Dendrite does now and then when it delivers an invite
// before the room's state has it (element-hq/dendrite#2902; it failed this suite's bot DM
// once). The bot must try again and join, with its welcome, instead of leaving the user's
// invitation pending for good.
//
// The race is played with the real homeserver: the user creates an invite-only room
// without inviting the bot, and the test pushes the bridge the invitation the homeserver
// has not got, as a transaction with the hs_token. The homeserver refuses the join (the
// bot is not invited). Once the bridge has said it will try again, the user opens the
// room, and the next join is accepted.
func TestBotJoinRefusedThenRetried(t *testing.T) {
	a := newWorld(t)
	ctx := t.Context()
	u := registerUser(ctx, t, a.e.hsURL, "ines", matrixPass)
	resp, err := u.Client.CreateRoom(ctx, &mautrix.ReqCreateRoom{IsDirect: true, Preset: "private_chat"})
	if err != nil {
		t.Fatal(err)
	}
	room := resp.RoomID
	logFrom := fileSize(t, a.e.bridgeLog)
	from := u.Mark()

	a.pushTransaction(t, "e2e-early-invite-"+strings.TrimPrefix(room.String(), "!"), map[string]any{
		"type": event.StateMember.Type, "state_key": a.bot.String(), "sender": u.ID().String(),
		"room_id": room.String(), "event_id": "$e2e-early-invite-" + strings.TrimPrefix(room.String(), "!"),
		"origin_server_ts": time.Now().UnixMilli(), "content": map[string]any{"membership": "invite"},
	})
	waitLogLine(t, a.e.bridgeLog, logFrom, waitEvent, "the bridge to say it tries the refused join again", func(l map[string]any) bool {
		// The warning of mautrixfix.RetryRefusedBotInvites (the test binary does not link
		// the bridge, whose build needs the goolm tag).
		return l["action"] == "retry bot join" && l["level"] == "warn" && l["room_id"] == room.String()
	})

	if _, err := u.Client.SendStateEvent(ctx, room, event.StateJoinRules, "", &event.JoinRulesEventContent{JoinRule: event.JoinRulePublic}); err != nil {
		t.Fatal(err)
	}
	u.Must(ctx, waitEvent, from, "the bot to join on its next try", harness.And(harness.InRoom(room), harness.MemberEvent(a.bot, "join")))
	u.Must(ctx, waitEvent, from, "the bot's welcome", harness.And(harness.InRoom(room), harness.FromSender(a.bot),
		func(s *harness.Seen) bool { return s.IsMessage() && strings.HasPrefix(s.Body(), "Hello, I'm a") }))
}

// pushTransaction sends the bridge an appservice transaction with the events, as the
// homeserver would (the registration's hs_token), and fails the test unless it is taken.
func (a *afternoon) pushTransaction(t *testing.T, txnID string, events ...map[string]any) {
	t.Helper()
	reg := readRegistration(t, a.e.bridge.Registration)
	if reg.HSToken == "" {
		t.Fatalf("%s: no hs_token", a.e.bridge.Registration)
	}
	u, err := url.Parse(a.e.bridge.ReadyURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path, u.RawQuery = "/_matrix/app/v1/transactions/"+url.PathEscape(txnID), ""
	body, err := json.Marshal(map[string]any{"events": events})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+reg.HSToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the bridge answered the transaction %d, want 200", resp.StatusCode)
	}
}

// registration is what the tests read of an appservice registration file: its tokens.
type registration struct {
	ASToken string `yaml:"as_token"`
	HSToken string `yaml:"hs_token"`
}

func readRegistration(t *testing.T, path string) registration {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var reg registration
	if err := yaml.Unmarshal(b, &reg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return reg
}

// waitLogLine waits up to timeout until a JSON line of the log at path, from offset on,
// matches; what names the line in the failure.
func waitLogLine(t *testing.T, path string, offset int64, timeout time.Duration, what string, match func(map[string]any) bool) {
	t.Helper()
	found := func() bool {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Size() < offset {
			offset = 0 // the log was rotated by a restart
		}
		if _, err := f.Seek(offset, 0); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) == nil && match(l) {
				return true
			}
		}
		return false
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !found() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s in %s", timeout, what, path)
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-tick.C:
		}
	}
}
