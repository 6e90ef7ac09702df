package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// The scripted Matrix user of the slow suites: a mautrix client on the client-server API
// that registers like a new user, and a log of every event its /sync answers delivered,
// with where and when each arrived. Tests wait on that log (long-polling /sync, never
// sleeping) and count what it holds.

// Options are what the suites' users differ in.
type Options struct {
	// DeviceName is the display name of the device that registration creates.
	DeviceName string
	// TimelineLimit is the /sync filter's timeline limit: larger than anything a room gets
	// between two syncs, so that no gappy timeline hides events from the log. 1000 when 0.
	TimelineLimit int
	// RoomsOnly leaves presence and account data out of /sync and syncs as offline: less
	// work per answer for a user that only looks at rooms (the benchmark's observer).
	RoomsOnly bool
	// JoinInvites makes the user join every room it is invited to, like a person in
	// Element accepting the invites of new portals: a wait joins them before it looks at
	// the log, SyncInBackground as soon as an answer shows them.
	JoinInvites bool
	// HTTP is the client's HTTP client; mautrix's default when nil.
	HTTP *http.Client
}

// MatrixUser is a scripted Matrix user: a mautrix client logged in as a newly registered
// user, and the log of every event its /sync answers delivered. One /sync runs at a time;
// Client may be used from any goroutine meanwhile (to send, create rooms, …).
type MatrixUser struct {
	Client *mautrix.Client

	// OnSync, when set, sees every /sync answer before its events are logged: an
	// encrypting client takes its keys from it and puts decrypted events in place of
	// m.room.encrypted ones. Set it before the user syncs again.
	OnSync func(ctx context.Context, resp *mautrix.RespSync, since string)

	opts Options

	syncMu sync.Mutex // held through one /sync: filter and since
	filter string
	since  string

	mu       sync.Mutex
	tb       testing.TB
	log      []*Seen
	dedup    map[string]bool
	joined   map[id.RoomID]bool // rooms a /sync answer listed as joined
	invited  []id.RoomID        // rooms with the user's invite, in the order they came
	answered map[id.RoomID]bool // invites joined (or tried) already
	first    map[string]*Seen   // the first message (not an edit) with each body
	warns    []string
	// changed is closed, and replaced, whenever a /sync answer has been logged and when
	// the background loop stops: a wait that does not sync itself waits on it.
	changed    chan struct{}
	background bool // SyncInBackground's loop is running
}

// Register registers localpart on the homeserver at hsURL (open registration,
// m.login.dummy) and returns the user logged in, with an empty log: the first Sync (or
// wait) creates the /sync filter and makes the initial sync. A user that only sends never
// syncs.
func Register(ctx context.Context, hsURL, localpart, password string, opts Options) (*MatrixUser, error) {
	cli, err := mautrix.NewClient(hsURL, "", "")
	if err != nil {
		return nil, err
	}
	if opts.HTTP != nil {
		cli.Client = opts.HTTP
	}
	resp, err := cli.RegisterDummy(ctx, &mautrix.ReqRegister[any]{
		Username: localpart, Password: password, InitialDeviceDisplayName: opts.DeviceName,
	})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", localpart, err)
	}
	cli.UserID, cli.DeviceID, cli.AccessToken = resp.UserID, resp.DeviceID, resp.AccessToken
	return newMatrixUser(cli, opts), nil
}

func newMatrixUser(cli *mautrix.Client, opts Options) *MatrixUser {
	if opts.TimelineLimit == 0 {
		opts.TimelineLimit = 1000
	}
	return &MatrixUser{
		Client: cli, opts: opts,
		dedup: map[string]bool{}, joined: map[id.RoomID]bool{}, answered: map[id.RoomID]bool{},
		first: map[string]*Seen{}, changed: make(chan struct{}),
	}
}

// MustRegister is Register, bound to tb (Bind), and the initial sync; it fails tb when
// any of it fails.
func MustRegister(ctx context.Context, tb testing.TB, hsURL, localpart, password string, opts Options) *MatrixUser {
	tb.Helper()
	u, err := Register(ctx, hsURL, localpart, password, opts)
	if err != nil {
		tb.Fatal(err)
	}
	u.Bind(tb)
	if err := u.Sync(ctx, 0); err != nil {
		tb.Fatalf("%s: initial sync: %v", u.ID(), err)
	}
	return u
}

// ID is the user's Matrix ID.
func (u *MatrixUser) ID() id.UserID { return u.Client.UserID }

// Bind makes tb the test the user reports to: Must fails it, and the user's warnings and
// retried errors are logged to it. A suite binds each subtest in turn.
func (u *MatrixUser) Bind(tb testing.TB) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.tb = tb
}

// Logf logs to the bound test, if there is one.
func (u *MatrixUser) Logf(format string, args ...any) {
	u.mu.Lock()
	tb := u.tb
	u.mu.Unlock()
	if tb != nil {
		tb.Helper()
		tb.Logf(format, args...)
	}
}

// warn records a warning (Warnings) and logs it to the bound test.
func (u *MatrixUser) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	u.mu.Lock()
	u.warns = append(u.warns, msg)
	u.mu.Unlock()
	u.Logf("%s: warning: %s", u.ID(), msg)
}

// Warnings are what may make the log incomplete or late: a timeline cut off by the
// filter's limit, and the background loop's failed /sync calls and joins.
func (u *MatrixUser) Warnings() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.warns)
}

// Sync makes one /sync call, long-polling up to timeout, and logs what it returned.
func (u *MatrixUser) Sync(ctx context.Context, timeout time.Duration) error {
	u.syncMu.Lock()
	defer u.syncMu.Unlock()
	// Bounded even when the homeserver accepts the request and never answers.
	sctx, cancel := context.WithTimeout(ctx, timeout+20*time.Second)
	defer cancel()
	if u.filter == "" {
		f := &mautrix.Filter{Room: &mautrix.RoomFilter{
			Timeline: &mautrix.FilterPart{Limit: u.opts.TimelineLimit},
		}}
		if u.opts.RoomsOnly {
			f.Presence = &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}}
			f.AccountData = &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}}
		}
		resp, err := u.Client.CreateFilter(sctx, f)
		if err != nil {
			return fmt.Errorf("create filter: %w", err)
		}
		u.filter = resp.FilterID
	}
	presence := event.Presence("")
	if u.opts.RoomsOnly {
		presence = event.PresenceOffline
	}
	resp, err := u.Client.SyncRequest(sctx, int(timeout/time.Millisecond), u.since, u.filter, false, presence)
	if err != nil {
		return err
	}
	// The arrival time of everything in the answer: taken first, so that what follows
	// (the hook, logging) does not count in a latency measured from it.
	at := time.Now()
	if u.OnSync != nil {
		u.OnSync(ctx, resp, u.since)
	}
	for _, w := range u.record(resp, at) {
		u.warn("%s", w)
	}
	u.since = resp.NextBatch
	return nil
}

// record logs the events of one /sync answer that returned at at and wakes the waits; it
// returns warnings about the answer.
func (u *MatrixUser) record(resp *mautrix.RespSync, at time.Time) (warns []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for room, r := range resp.Rooms.Invite {
		u.add(room, "invite", r.State.Events, at)
	}
	for room, r := range resp.Rooms.Join {
		u.joined[room] = true
		u.add(room, "join", r.State.Events, at)
		u.add(room, "join", r.Timeline.Events, at)
		// Dendrite flags every newly joined room as limited; only a full page can hide events.
		if r.Timeline.Limited && len(r.Timeline.Events) >= u.opts.TimelineLimit {
			warns = append(warns, fmt.Sprintf("limited timeline in %s (%d events): the log may miss events", room, len(r.Timeline.Events)))
		}
	}
	for room, r := range resp.Rooms.Leave {
		u.add(room, "leave", r.State.Events, at)
		u.add(room, "leave", r.Timeline.Events, at)
	}
	close(u.changed)
	u.changed = make(chan struct{})
	return warns
}

// add logs evts (of room, from section) that are not in the log yet. Called with mu held.
func (u *MatrixUser) add(room id.RoomID, section string, evts []*event.Event, at time.Time) {
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
		s := &Seen{Room: room, Section: section, Evt: e, At: at, Idx: len(u.log)}
		u.log = append(u.log, s)
		if s.IsInviteFor(u.ID()) {
			u.invited = append(u.invited, room)
		}
		if s.IsMessage() && !s.IsEdit() && u.first[s.Body()] == nil {
			u.first[s.Body()] = s
		}
	}
}

// takeInvites returns the rooms the user is invited to and neither in nor joining yet,
// and counts them as joining.
func (u *MatrixUser) takeInvites() []id.RoomID {
	u.mu.Lock()
	defer u.mu.Unlock()
	var rooms []id.RoomID
	for _, r := range u.invited {
		if !u.joined[r] && !u.answered[r] {
			u.answered[r] = true
			rooms = append(rooms, r)
		}
	}
	return rooms
}

// JoinInvites joins every room the user is invited to and not yet in, once each.
func (u *MatrixUser) JoinInvites(ctx context.Context) error {
	for _, r := range u.takeInvites() {
		if _, err := u.Client.JoinRoomByID(ctx, r); err != nil {
			return fmt.Errorf("%s: join %s: %w", u.ID(), r, err)
		}
	}
	return nil
}

// Joined reports whether a /sync answer has listed room as joined.
func (u *MatrixUser) Joined(room id.RoomID) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.joined[room]
}

// SyncInBackground runs the user's /sync loop on its own goroutine until ctx ends, each
// long poll up to 30 s, so that every event is stamped with the time its answer returned
// while the test does other things; waits then wait for its answers instead of syncing.
// With Options.JoinInvites it joins invites on goroutines of their own, so that the loop
// goes back to /sync at once. The returned channel is closed when the loop and its joins
// have stopped; a bound test (Bind) must not end before that, as the loop logs to it.
func (u *MatrixUser) SyncInBackground(ctx context.Context) <-chan struct{} {
	u.mu.Lock()
	u.background = true
	u.mu.Unlock()
	stopped := make(chan struct{})
	go func() {
		var joins sync.WaitGroup
		defer func() {
			joins.Wait()
			u.mu.Lock()
			u.background = false
			close(u.changed)
			u.changed = make(chan struct{})
			u.mu.Unlock()
			close(stopped)
		}()
		for ctx.Err() == nil {
			if err := u.Sync(ctx, 30*time.Second); err != nil {
				if ctx.Err() != nil {
					return
				}
				u.warn("/sync failed, retrying: %v", err)
				// A short pause, so that a refused connection does not spin.
				select {
				case <-ctx.Done():
					return
				case <-time.After(200 * time.Millisecond):
				}
				continue
			}
			if !u.opts.JoinInvites {
				continue
			}
			for _, r := range u.takeInvites() {
				joins.Go(func() {
					if _, err := u.Client.JoinRoomByID(ctx, r); err != nil && ctx.Err() == nil {
						u.warn("join %s: %v", r, err)
					}
				})
			}
		}
	}()
	return stopped
}

// errTimedOut is the error of a wait whose time ran out.
var errTimedOut = errors.New("timed out")

// WaitUntil waits until done() holds, checking it again after every /sync answer, for up
// to timeout (a timeout ≤ 0 checks once). It long-polls /sync itself, up to poll at a
// time (10 s when 0; done may look at state outside Matrix, checked at least that often),
// unless SyncInBackground is running, whose answers it waits for instead. It never
// sleeps: each /sync returns as soon as the homeserver has something new. A failed /sync
// is retried after a short pause (the homeserver may be restarting) until ctx ends.
func (u *MatrixUser) WaitUntil(ctx context.Context, timeout, poll time.Duration, done func() bool) error {
	deadline := time.Now().Add(timeout)
	if poll <= 0 {
		poll = waitPoll
	}
	failed := 0 // /sync errors in a row: the first is logged, then how many until it worked
	for {
		u.mu.Lock()
		changed, background := u.changed, u.background
		u.mu.Unlock()
		if u.opts.JoinInvites && !background {
			if err := u.JoinInvites(ctx); err != nil {
				return err
			}
		}
		if done() {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%w after %s", errTimedOut, timeout)
		}
		wait := min(left, poll)
		if background {
			timer := time.NewTimer(wait)
			select {
			case <-changed:
			case <-timer.C:
			case <-ctx.Done():
			}
			timer.Stop()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		err := u.Sync(ctx, wait)
		if err == nil {
			if failed > 0 {
				u.Logf("%s: /sync works again after %d failed attempts", u.ID(), failed)
				failed = 0
			}
			continue
		}
		if ctx.Err() != nil {
			return err
		}
		if failed == 0 {
			u.Logf("%s: sync error (retrying): %v", u.ID(), err)
		}
		failed++
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitPoll is the longest /sync long poll of WaitFor.
const waitPoll = 10 * time.Second

// WaitFor waits until an event at or after index from (Mark) matches, for up to timeout,
// as WaitUntil does; what names the event in the error, which lists the events logged
// since from.
func (u *MatrixUser) WaitFor(ctx context.Context, timeout time.Duration, from int, what string, match func(*Seen) bool) (*Seen, error) {
	var found *Seen
	err := u.WaitUntil(ctx, timeout, waitPoll, func() bool {
		found = u.Find(from, match)
		return found != nil
	})
	switch {
	case err == nil:
		return found, nil
	case errors.Is(err, errTimedOut):
		return nil, fmt.Errorf("%s: timed out after %s waiting for %s; events since then:\n%s", u.ID(), timeout, what, u.Dump(from))
	default:
		return nil, fmt.Errorf("%s: waiting for %s: %w", u.ID(), what, err)
	}
}

// Must is WaitFor that fails the bound test.
func (u *MatrixUser) Must(ctx context.Context, timeout time.Duration, from int, what string, match func(*Seen) bool) *Seen {
	s, err := u.WaitFor(ctx, timeout, from, what, match)
	if err != nil {
		u.mu.Lock()
		tb := u.tb
		u.mu.Unlock()
		if tb == nil {
			panic(err)
		}
		tb.Helper()
		tb.Fatal(err)
	}
	return s
}

// WaitBodies waits until a message (not an edit) with each of bodies has arrived, for up
// to timeout, as WaitUntil does; the error says how many never did.
func (u *MatrixUser) WaitBodies(ctx context.Context, timeout time.Duration, bodies []string) error {
	missing := func() int {
		u.mu.Lock()
		defer u.mu.Unlock()
		n := 0
		for _, b := range bodies {
			if u.first[b] == nil {
				n++
			}
		}
		return n
	}
	if err := u.WaitUntil(ctx, timeout, waitPoll, func() bool { return missing() == 0 }); err != nil {
		return fmt.Errorf("%d of %d messages never reached %s: %w", missing(), len(bodies), u.ID(), err)
	}
	return nil
}

// FirstMessage is the first logged message (not an edit) whose body is body, nil when
// there is none.
func (u *MatrixUser) FirstMessage(body string) *Seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.first[body]
}

// Mark is the current end of the log: waits and lookups with from=Mark() only look at
// later events.
func (u *MatrixUser) Mark() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.log)
}

// Events is the log from index from on (a copy).
func (u *MatrixUser) Events(from int) []*Seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.log[from:])
}

// Find returns the first logged event at or after from that matches, nil when none does.
func (u *MatrixUser) Find(from int, match func(*Seen) bool) *Seen {
	for _, s := range u.Events(from) {
		if match(s) {
			return s
		}
	}
	return nil
}

// All returns the logged events at or after from that match.
func (u *MatrixUser) All(from int, match func(*Seen) bool) []*Seen {
	var out []*Seen
	for _, s := range u.Events(from) {
		if match(s) {
			out = append(out, s)
		}
	}
	return out
}

// BodyCounts counts the messages (not edits) per body in room over the whole log.
func (u *MatrixUser) BodyCounts(room id.RoomID) map[string]int {
	out := map[string]int{}
	for _, s := range u.All(0, And(InRoom(room), func(s *Seen) bool { return s.IsMessage() && !s.IsEdit() })) {
		out[s.Body()]++
	}
	return out
}

// dumpMax is how many events Dump lists at most (the last ones).
const dumpMax = 60

// Dump lists the events logged since from, one a line, the last dumpMax of them.
func (u *MatrixUser) Dump(from int) string {
	var b strings.Builder
	evts := u.Events(from)
	if len(evts) > dumpMax {
		fmt.Fprintf(&b, "  … %d earlier events\n", len(evts)-dumpMax)
		evts = evts[len(evts)-dumpMax:]
	}
	for _, s := range evts {
		b.WriteString("  " + s.String() + "\n")
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

// CreateDM creates a direct chat with with, as Element's "start chat" does (named name
// when name is not empty), and returns its room. It does not wait for with to join.
func (u *MatrixUser) CreateDM(ctx context.Context, with id.UserID, name string) (id.RoomID, error) {
	resp, err := u.Client.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Name: name, Invite: []id.UserID{with}, IsDirect: true, Preset: "trusted_private_chat",
	})
	if err != nil {
		return "", fmt.Errorf("%s: create a DM with %s: %w", u.ID(), with, err)
	}
	return resp.RoomID, nil
}

// SendText sends an m.text message once, with transaction id txnID (a fresh one when
// empty), and returns its event ID.
func (u *MatrixUser) SendText(ctx context.Context, room id.RoomID, body, txnID string) (id.EventID, error) {
	resp, err := u.Client.SendMessageEvent(ctx, room, event.EventMessage,
		&event.MessageEventContent{MsgType: event.MsgText, Body: body}, mautrix.ReqSendEvent{TransactionID: txnID})
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// SendTextRetrying sends an m.text with the fixed transaction id txnID, retrying like
// Element does when the homeserver cannot be reached (the same PUT /send/{txnId}, which the
// homeserver dedupes), with a growing pause, up to 50 tries. It returns the event ID and
// the number of tries.
func (u *MatrixUser) SendTextRetrying(ctx context.Context, room id.RoomID, body, txnID string) (id.EventID, int, error) {
	if txnID == "" {
		return "", 0, errors.New("SendTextRetrying needs a transaction id: retries must reuse it")
	}
	backoff := 100 * time.Millisecond
	for tries := 1; ; tries++ {
		evt, err := u.SendText(ctx, room, body, txnID)
		if err == nil {
			return evt, tries, nil
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

// History reads room's whole timeline through /messages (backwards), oldest first: the
// homeserver's own view, to cross-check the /sync log.
func (u *MatrixUser) History(ctx context.Context, room id.RoomID) ([]*event.Event, error) {
	var out []*event.Event
	from := ""
	for {
		resp, err := u.Client.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 1000)
		if err != nil {
			return nil, err
		}
		out = append(out, resp.Chunk...)
		if resp.End == "" || len(resp.Chunk) == 0 {
			break
		}
		from = resp.End
	}
	slices.Reverse(out)
	return out, nil
}
