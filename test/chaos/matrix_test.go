//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// timelineLimit is the /sync timeline limit: larger than anything a room gets between two
// syncs, so that no gappy timeline hides events from the counts.
const timelineLimit = 2000

// seen is one event the scripted user received through /sync.
type seen struct {
	Room    id.RoomID
	Section string // "join", "invite" or "leave"
	Evt     *event.Event
	At      time.Time
}

func (s *seen) str(key string) string {
	v, _ := s.Evt.Content.Raw[key].(string)
	return v
}

func (s *seen) body() string    { return s.str("body") }
func (s *seen) msgtype() string { return s.str("msgtype") }

func (s *seen) relatesTo() map[string]any {
	rel, _ := s.Evt.Content.Raw["m.relates_to"].(map[string]any)
	return rel
}

func (s *seen) isEdit() bool { return s.relatesTo()["rel_type"] == "m.replace" }

// isMessage: an m.room.message that is not an edit.
func (s *seen) isMessage() bool { return s.Evt.Type == event.EventMessage && !s.isEdit() }

// replyTo is m.relates_to.m.in_reply_to.event_id.
func (s *seen) replyTo() id.EventID {
	r, _ := s.relatesTo()["m.in_reply_to"].(map[string]any)
	v, _ := r["event_id"].(string)
	return id.EventID(v)
}

func (s *seen) isInviteFor(user id.UserID) bool {
	return s.Section == "invite" && s.Evt.Type == event.StateMember && s.Evt.StateKey != nil &&
		*s.Evt.StateKey == string(user) && s.str("membership") == "invite"
}

func (s *seen) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s [%s] %s from %s", s.At.Format("15:04:05.000"), s.Room, s.Section, s.Evt.Type.Type, s.Evt.Sender)
	if s.Evt.Type == event.EventMessage {
		fmt.Fprintf(&b, " %s %q", s.msgtype(), s.body())
	}
	return b.String()
}

// mxUser is the scripted Matrix user: a mautrix client on the client-server API and the
// log of every event its /sync delivered. Only the test's main goroutine syncs; the
// sender goroutine uses cli alone.
type mxUser struct {
	cli    *mautrix.Client
	filter string
	since  string

	mu     sync.Mutex
	log    []*seen
	dedup  map[string]bool
	joined map[id.RoomID]bool
	warns  []string
}

func registerUser(ctx context.Context, hsURL, localpart, password string) (*mxUser, error) {
	cli, err := mautrix.NewClient(hsURL, "", "")
	if err != nil {
		return nil, err
	}
	resp, err := cli.RegisterDummy(ctx, &mautrix.ReqRegister[any]{
		Username: localpart, Password: password, InitialDeviceDisplayName: "chaos " + localpart,
	})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", localpart, err)
	}
	cli.UserID, cli.DeviceID, cli.AccessToken = resp.UserID, resp.DeviceID, resp.AccessToken
	u := &mxUser{cli: cli, dedup: map[string]bool{}, joined: map[id.RoomID]bool{}}
	f, err := cli.CreateFilter(ctx, &mautrix.Filter{Room: &mautrix.RoomFilter{
		Timeline: &mautrix.FilterPart{Limit: timelineLimit},
	}})
	if err != nil {
		return nil, fmt.Errorf("create filter: %w", err)
	}
	u.filter = f.FilterID
	return u, u.sync(ctx, 0)
}

func (u *mxUser) id() id.UserID { return u.cli.UserID }

func (u *mxUser) add(room id.RoomID, section string, evts []*event.Event, at time.Time) {
	for _, e := range evts {
		if e == nil {
			continue
		}
		e.RoomID = room
		key := string(e.ID)
		if key == "" { // stripped invite state
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
		u.log = append(u.log, &seen{Room: room, Section: section, Evt: e, At: at})
	}
}

// sync makes one /sync call (long-polling up to timeout) and appends what it returned.
func (u *mxUser) sync(ctx context.Context, timeout time.Duration) error {
	sctx, cancel := context.WithTimeout(ctx, timeout+20*time.Second)
	defer cancel()
	resp, err := u.cli.SyncRequest(sctx, int(timeout/time.Millisecond), u.since, u.filter, false, "")
	if err != nil {
		return err
	}
	at := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	for room, r := range resp.Rooms.Invite {
		u.add(room, "invite", r.State.Events, at)
	}
	for room, r := range resp.Rooms.Join {
		u.joined[room] = true
		u.add(room, "join", r.State.Events, at)
		u.add(room, "join", r.Timeline.Events, at)
		if r.Timeline.Limited && len(r.Timeline.Events) >= timelineLimit {
			u.warns = append(u.warns, fmt.Sprintf("limited timeline in %s (%d events): counts may miss events", room, len(r.Timeline.Events)))
		}
	}
	for room, r := range resp.Rooms.Leave {
		u.add(room, "leave", r.State.Events, at)
		u.add(room, "leave", r.Timeline.Events, at)
	}
	u.since = resp.NextBatch
	return nil
}

// events returns a snapshot of the log.
func (u *mxUser) events() []*seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*seen(nil), u.log...)
}

// joinInvites joins every room the user is invited to and not yet in, like a person in
// Element accepting the invites of new portals.
func (u *mxUser) joinInvites(ctx context.Context) error {
	u.mu.Lock()
	var rooms []id.RoomID
	for _, s := range u.log {
		if s.isInviteFor(u.id()) && !u.joined[s.Room] {
			rooms = append(rooms, s.Room)
			u.joined[s.Room] = true
		}
	}
	u.mu.Unlock()
	for _, r := range rooms {
		if _, err := u.cli.JoinRoomByID(ctx, r); err != nil {
			return fmt.Errorf("join %s: %w", r, err)
		}
	}
	return nil
}

// waitUntil long-polls /sync until done() holds or timeout passes; it never sleeps: each
// /sync returns as soon as the homeserver has something new, or after poll when idle (the
// caller may also look at external state, wxsim, in done()).
func (u *mxUser) waitUntil(ctx context.Context, timeout, poll time.Duration, done func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if err := u.joinInvites(ctx); err != nil {
			return err
		}
		if done() {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("timed out after %s", timeout)
		}
		if err := u.sync(ctx, min(left, poll)); err != nil {
			if ctx.Err() != nil {
				return err
			}
			// The homeserver may be restarting: the next long-poll tries again, after a
			// short pause so that a refused connection does not spin.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// sendText sends a text with a fixed transaction id, retrying like Element does when the
// homeserver cannot be reached: the same PUT /send/{txnId}, which the homeserver dedupes.
func (u *mxUser) sendText(ctx context.Context, room id.RoomID, body, txnID string) (id.EventID, int, error) {
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: body}
	tries := 0
	backoff := 100 * time.Millisecond
	for {
		tries++
		resp, err := u.cli.SendMessageEvent(ctx, room, event.EventMessage, content, mautrix.ReqSendEvent{TransactionID: txnID})
		if err == nil {
			return resp.EventID, tries, nil
		}
		if ctx.Err() != nil || tries >= 50 {
			return "", tries, fmt.Errorf("send %q (txn %s, %d tries): %w", body, txnID, tries, err)
		}
		select {
		case <-ctx.Done():
			return "", tries, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 3*time.Second)
	}
}

// history reads a room's whole timeline through /messages (backwards), oldest first: the
// homeserver's own view, to cross-check the /sync log.
func (u *mxUser) history(ctx context.Context, room id.RoomID) ([]*event.Event, error) {
	var out []*event.Event
	from := ""
	for {
		resp, err := u.cli.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 1000)
		if err != nil {
			return nil, err
		}
		out = append(out, resp.Chunk...)
		if resp.End == "" || len(resp.Chunk) == 0 {
			break
		}
		from = resp.End
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
