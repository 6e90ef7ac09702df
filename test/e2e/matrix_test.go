//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// timelineLimit is the /sync timeline limit of the filter: large, so that a busy room never
// yields a gappy timeline that would hide events from the assertions.
const timelineLimit = 1000

// seen is one event the scripted user received through /sync.
type seen struct {
	Room    id.RoomID
	Section string // "join", "invite" or "leave"
	Evt     *event.Event
	At      time.Time // when the /sync answer carrying it returned
	Idx     int       // position in the user's event log
}

func (s *seen) str(key string) string {
	v, _ := s.Evt.Content.Raw[key].(string)
	return v
}

func (s *seen) body() string    { return s.str("body") }
func (s *seen) msgtype() string { return s.str("msgtype") }

// isEdit reports whether the event replaces another one (m.replace).
func (s *seen) isEdit() bool {
	rel, _ := s.Evt.Content.Raw["m.relates_to"].(map[string]any)
	return rel != nil && rel["rel_type"] == "m.replace"
}

func (s *seen) isMessage() bool { return s.Evt.Type == event.EventMessage }

func (s *seen) membership() string {
	if s.Evt.Type != event.StateMember {
		return ""
	}
	return s.str("membership")
}

func (s *seen) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s [%s] %s from %s", s.Idx, s.Room, s.Section, s.Evt.Type.Type, s.Evt.Sender)
	if s.Evt.StateKey != nil {
		fmt.Fprintf(&b, " state_key=%q", *s.Evt.StateKey)
	}
	switch {
	case s.isMessage():
		fmt.Fprintf(&b, " %s %q", s.msgtype(), s.body())
		if s.isEdit() {
			b.WriteString(" (edit)")
		}
	case s.Evt.Type == event.StateMember:
		fmt.Fprintf(&b, " membership=%s displayname=%q", s.membership(), s.str("displayname"))
	case s.Evt.Type == event.StateRoomName:
		fmt.Fprintf(&b, " name=%q", s.str("name"))
	}
	return b.String()
}

// mxUser is a scripted Matrix user: a mautrix client on the client-server API, plus the
// log of every event its /sync delivered.
type mxUser struct {
	t      *testing.T
	cli    *mautrix.Client
	filter string
	since  string
	log    []*seen
	dedup  map[string]bool

	// onSync, when set, sees every /sync answer before its events are logged: an
	// encrypting client takes its keys from it and puts decrypted events in place of
	// m.room.encrypted ones (encryption_test.go).
	onSync func(ctx context.Context, resp *mautrix.RespSync, since string)
}

func registerUser(ctx context.Context, t *testing.T, hsURL, localpart, password string) *mxUser {
	t.Helper()
	cli, err := mautrix.NewClient(hsURL, "", "")
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	resp, err := cli.RegisterDummy(ctx, &mautrix.ReqRegister[any]{
		Username: localpart, Password: password, InitialDeviceDisplayName: "e2e " + localpart,
	})
	if err != nil {
		t.Fatalf("register %s: %v", localpart, err)
	}
	cli.UserID, cli.DeviceID, cli.AccessToken = resp.UserID, resp.DeviceID, resp.AccessToken
	u := &mxUser{t: t, cli: cli, dedup: map[string]bool{}}
	f, err := cli.CreateFilter(ctx, &mautrix.Filter{Room: &mautrix.RoomFilter{
		Timeline: &mautrix.FilterPart{Limit: timelineLimit},
		State:    &mautrix.FilterPart{LazyLoadMembers: false},
	}})
	if err != nil {
		t.Fatalf("create filter: %v", err)
	}
	u.filter = f.FilterID
	if err := u.sync(ctx, 0); err != nil {
		t.Fatalf("initial sync: %v", err)
	}
	return u
}

func (u *mxUser) id() id.UserID { return u.cli.UserID }

func (u *mxUser) add(room id.RoomID, section string, evts []*event.Event, at time.Time) {
	for _, e := range evts {
		if e == nil {
			continue
		}
		e.RoomID = room
		key := string(e.ID)
		if key == "" { // stripped invite state has no event ID
			sk := ""
			if e.StateKey != nil {
				sk = *e.StateKey
			}
			key = fmt.Sprintf("%s|%s|%s|%s|%s|%s", section, room, e.Type.Type, sk, e.Sender, e.Content.VeryRaw)
		}
		if u.dedup[key] {
			continue
		}
		u.dedup[key] = true
		u.log = append(u.log, &seen{Room: room, Section: section, Evt: e, At: at, Idx: len(u.log)})
	}
}

// sync makes one /sync call (long-polling up to timeout) and appends what it returned.
func (u *mxUser) sync(ctx context.Context, timeout time.Duration) error {
	resp, err := u.cli.SyncRequest(ctx, int(timeout/time.Millisecond), u.since, u.filter, false, "")
	if err != nil {
		return err
	}
	at := time.Now()
	if u.onSync != nil {
		u.onSync(ctx, resp, u.since)
	}
	for room, r := range resp.Rooms.Invite {
		u.add(room, "invite", r.State.Events, at)
	}
	for room, r := range resp.Rooms.Join {
		u.add(room, "join", r.State.Events, at)
		u.add(room, "join", r.Timeline.Events, at)
		// Dendrite flags every newly joined room as limited; only a full page can hide events.
		if r.Timeline.Limited && len(r.Timeline.Events) >= timelineLimit {
			u.t.Logf("%s: warning: limited timeline in %s (%d events)", u.id(), room, len(r.Timeline.Events))
		}
	}
	for room, r := range resp.Rooms.Leave {
		u.add(room, "leave", r.State.Events, at)
		u.add(room, "leave", r.Timeline.Events, at)
	}
	u.since = resp.NextBatch
	return nil
}

// mark is the current end of the event log: waits with from=mark only look at later events.
func (u *mxUser) mark() int { return len(u.log) }

// find returns the first logged event at or after from that matches.
func (u *mxUser) find(from int, match func(*seen) bool) *seen {
	for _, s := range u.log[from:] {
		if match(s) {
			return s
		}
	}
	return nil
}

func (u *mxUser) all(from int, match func(*seen) bool) []*seen {
	var out []*seen
	for _, s := range u.log[from:] {
		if match(s) {
			out = append(out, s)
		}
	}
	return out
}

// waitFor long-polls /sync until an event at or after from matches, or the timeout passes.
// It never sleeps: each /sync call returns as soon as the homeserver has something new.
func (u *mxUser) waitFor(ctx context.Context, timeout time.Duration, from int, what string, match func(*seen) bool) (*seen, error) {
	deadline := time.Now().Add(timeout)
	for {
		if s := u.find(from, match); s != nil {
			return s, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("%s: timed out after %s waiting for %s; events since then:\n%s",
				u.id(), timeout, what, u.dump(from))
		}
		poll := min(left, 10*time.Second)
		sctx, cancel := context.WithTimeout(ctx, poll+10*time.Second)
		err := u.sync(sctx, poll)
		cancel()
		if err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("%s: waiting for %s: %w", u.id(), what, err)
		}
		if err != nil {
			u.t.Logf("%s: sync error (retrying): %v", u.id(), err)
		}
	}
}

// must is waitFor that fails the test.
func (u *mxUser) must(ctx context.Context, timeout time.Duration, from int, what string, match func(*seen) bool) *seen {
	u.t.Helper()
	s, err := u.waitFor(ctx, timeout, from, what, match)
	if err != nil {
		u.t.Fatal(err)
	}
	return s
}

func (u *mxUser) dump(from int) string {
	var b strings.Builder
	evts := u.log[from:]
	if len(evts) > 60 {
		fmt.Fprintf(&b, "  … %d earlier events\n", len(evts)-60)
		evts = evts[len(evts)-60:]
	}
	for _, s := range evts {
		b.WriteString("  " + s.String() + "\n")
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

// Event matchers.

func inRoom(room id.RoomID) func(*seen) bool { return func(s *seen) bool { return s.Room == room } }

func and(ms ...func(*seen) bool) func(*seen) bool {
	return func(s *seen) bool {
		for _, m := range ms {
			if !m(s) {
				return false
			}
		}
		return true
	}
}

func messageWithBody(body string) func(*seen) bool {
	return func(s *seen) bool { return s.isMessage() && !s.isEdit() && s.body() == body }
}

func fromSender(sender id.UserID) func(*seen) bool {
	return func(s *seen) bool { return s.Evt.Sender == sender }
}

func memberEvent(user id.UserID, membership string) func(*seen) bool {
	return func(s *seen) bool {
		return s.Evt.Type == event.StateMember && s.Evt.StateKey != nil &&
			*s.Evt.StateKey == string(user) && s.membership() == membership
	}
}

// bodyCounts counts the non-edit messages per body in a room over the whole log.
func (u *mxUser) bodyCounts(room id.RoomID) map[string]int {
	out := map[string]int{}
	for _, s := range u.log {
		if s.Room == room && s.isMessage() && !s.isEdit() {
			out[s.body()]++
		}
	}
	return out
}
