//go:build chaos

package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

const (
	account    = "wxid_chaos"
	numChats   = 20
	matrixPass = "chaos monkey battery staple"
	qrPrefix   = "https://login.weixin.qq.com/l/"
	loginOK    = "Successfully logged in"

	waitLogin  = 60 * time.Second
	waitSetup  = 120 * time.Second
	waitSettle = 240 * time.Second // per trial, after the restart: everything accounted for

	outageSends = 10 // Matrix → WeChat messages written while the homeserver is down
)

// params are the knobs test/chaos/run passes (quick or full mode).
type params struct {
	trials, w2m, m2w int
	outage           time.Duration
	outageMsgs       int
	seed             uint64
}

func loadParams(t *testing.T) params {
	t.Helper()
	num := func(k string, def int) int {
		v := os.Getenv(k)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want a number", k, v)
		}
		return n
	}
	p := params{trials: num("CHAOS_TRIALS", 3), w2m: num("CHAOS_W2M", 100), m2w: num("CHAOS_M2W", 20), outageMsgs: num("CHAOS_OUTAGE_MSGS", 50)}
	p.outage = 10 * time.Second
	if v := os.Getenv("CHAOS_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("CHAOS_OUTAGE=%q: %v", v, err)
		}
		p.outage = d
	}
	p.seed = uint64(time.Now().UnixNano())
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", v, err)
		}
		p.seed = s
	}
	return p
}

// chat is one WeChat chat of the account and its Matrix portal.
type chat struct {
	idx     int
	wxid    string   // contact wxid or group id
	members []string // group members (senders); nil for a contact
	room    id.RoomID
}

func (c *chat) group() bool { return c.members != nil }

// inMsg is one WeChat→Matrix message of the plan.
type inMsg struct {
	phase string
	chat  int
	seq   int
	body  string
	ref   wxsim.MsgRef
}

// outMsg is one Matrix→WeChat message of the plan.
type outMsg struct {
	phase string
	chat  int
	seq   int
	body  string
	txn   string
	evt   id.EventID
	tries int
}

// phaseInfo is what a phase (a trial, the outage, the final sentinels) did.
type phaseInfo struct {
	name         string
	in           []*inMsg
	out          []*outMsg
	note         string
	killAt       time.Time
	logTail      []string // the bridge log's last lines when it was killed
	settled      time.Duration
	settleFailed bool
}

type world struct {
	t   *testing.T
	e   *env
	p   params
	rng *rand.Rand
	ctl *wxsim.Control
	u   *harness.MatrixUser
	bot id.UserID

	chats  []*chat
	byRoom map[id.RoomID]*chat
	phases []*phaseInfo
	heal   *healer
}

var bodyRE = regexp.MustCompile(`^(\S+) chat-(\d+) (seq|mx)-(\d+)$`)

// parsed is a body of the plan: phase, chat, direction ("seq" WeChat→Matrix, "mx"
// Matrix→WeChat) and number.
type parsed struct {
	phase string
	chat  int
	dir   string
	n     int
}

func parseBody(b string) (parsed, bool) {
	m := bodyRE.FindStringSubmatch(b)
	if m == nil {
		return parsed{}, false
	}
	c, _ := strconv.Atoi(m[2])
	n, _ := strconv.Atoi(m[4])
	return parsed{m[1], c, m[3], n}, true
}

func inBody(phase string, chat, seq int) string {
	return fmt.Sprintf("%s chat-%02d seq-%03d", phase, chat, seq)
}
func outBody(phase string, chat, seq int) string {
	return fmt.Sprintf("%s chat-%02d mx-%03d", phase, chat, seq)
}

func TestChaos(t *testing.T) {
	e := loadEnv(t)
	p := loadParams(t)
	t.Logf("seed %d: %d trials × %d WeChat→Matrix + %d Matrix→WeChat messages; outage %s with %d messages",
		p.seed, p.trials, p.w2m, p.m2w, p.outage, p.outageMsgs)
	w := &world{
		t: t, e: e, p: p,
		rng:    rand.New(rand.NewPCG(p.seed, p.seed^0x9e3779b97f4a7c15)),
		ctl:    &wxsim.Control{BaseURL: e.wxsimURL},
		bot:    id.NewUserID("wechatbot", e.server),
		byRoom: map[id.RoomID]*chat{},
	}
	w.heal = newHealer(e, t.Logf)
	hctx, stopHeal := context.WithCancel(t.Context())
	var hwg sync.WaitGroup
	hwg.Go(func() { w.heal.run(hctx) })
	defer func() { stopHeal(); hwg.Wait() }()
	start := time.Now()
	w.heal.setPhase("setup")
	perMsg := w.setup()
	// Until a trial measured them: wxsim's pace from the setup, and 30 ms per Matrix send.
	est := estimate{in: perMsg * time.Duration(p.w2m), out: 30 * time.Millisecond * time.Duration(p.m2w)}
	for trial := 1; trial <= p.trials; trial++ {
		est = w.trial(trial, est)
	}
	w.outagePhase()
	w.finalPhase()
	ok := w.report(time.Since(start))
	if !ok {
		t.Fail()
	}
}

// --- setup ------------------------------------------------------------------------------

// setup creates the WeChat account with 16 contacts and 4 groups in wxsim, the Matrix user,
// logs in with the QR code, and makes every chat write once so that each has its portal.
// It returns how long wxsim took per incoming message.
func (w *world) setup() time.Duration {
	t, ctx := w.t, w.t.Context()
	if _, err := w.ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: account, Nickname: "Chaos", Uin: 7070, Host: "wx2.qq.com"}); err != nil {
		t.Fatal(err)
	}
	var contacts []string
	for i := range numChats {
		if i%5 == 4 {
			continue
		}
		wxid := fmt.Sprintf("wxid_chaos_c%02d", i)
		nick := fmt.Sprintf("Contact %02d", i)
		if _, err := w.ctl.AddContact(ctx, account, wxsim.ContactSpec{Wxid: wxid, Nickname: &nick}); err != nil {
			t.Fatal(err)
		}
		contacts = append(contacts, wxid)
	}
	ci := 0
	for i := range numChats {
		c := &chat{idx: i}
		if i%5 == 4 {
			c.wxid = fmt.Sprintf("70700%02d@chatroom", i)
			c.members = []string{contacts[(i+1)%len(contacts)], contacts[(i+5)%len(contacts)], contacts[(i+9)%len(contacts)]}
			if _, err := w.ctl.CreateGroup(ctx, account, wxsim.GroupSpec{ID: c.wxid, Name: fmt.Sprintf("Group %02d", i), Members: c.members}); err != nil {
				t.Fatal(err)
			}
		} else {
			c.wxid = contacts[ci]
			ci++
		}
		w.chats = append(w.chats, c)
	}

	u := harness.MustRegister(ctx, t, w.e.hsURL, "chaos", matrixPass, harness.Options{
		DeviceName: "chaos chaos",
		// Larger than anything a room gets between two syncs, so that no gappy timeline
		// hides events from the counts.
		TimelineLimit: 2000,
		// Like a person in Element, the user accepts the invites of new portals.
		JoinInvites: true,
	})
	w.u = u
	dm, err := u.CreateDM(ctx, w.bot, "")
	if err != nil {
		t.Fatal(err)
	}
	fromBot := harness.And(harness.InRoom(dm), harness.FromSender(w.bot), func(s *harness.Seen) bool { return s.IsMessage() && !s.IsEdit() })
	wait := func(what string, match func(*harness.Seen) bool) *harness.Seen {
		return u.Must(ctx, waitLogin, 0, what, match)
	}
	wait("the bot to join the DM", harness.And(harness.InRoom(dm), harness.MemberEvent(w.bot, "join")))
	if _, err := u.Client.SendText(ctx, dm, "login"); err != nil {
		t.Fatal(err)
	}
	qr := wait("the QR code", harness.And(fromBot, func(s *harness.Seen) bool { return s.MsgType() == string(event.MsgImage) }))
	uuid := strings.TrimPrefix(qr.Body(), qrPrefix)
	if err := w.ctl.Scan(ctx, uuid, account); err != nil {
		t.Fatal(err)
	}
	wait("the bot to ask for confirmation", harness.And(fromBot, func(s *harness.Seen) bool { return strings.Contains(strings.ToLower(s.Body()), "confirm") }))
	if err := w.ctl.Confirm(ctx, uuid); err != nil {
		t.Fatal(err)
	}
	wait("the login", harness.And(fromBot, func(s *harness.Seen) bool { return strings.Contains(s.Body(), loginOK) }))
	t.Logf("logged in as %s (%s)", account, u.ID())

	// One message per chat creates (or finds) its portal.
	ph := &phaseInfo{name: "setup"}
	t0 := time.Now()
	for _, c := range w.chats {
		m := &inMsg{phase: "setup", chat: c.idx, seq: 0, body: inBody("setup", c.idx, 0)}
		w.postIncoming(m)
		ph.in = append(ph.in, m)
	}
	perMsg := time.Since(t0) / numChats
	bodies := map[string]*chat{}
	for _, c := range w.chats {
		bodies[inBody("setup", c.idx, 0)] = c
	}
	err = u.WaitUntil(ctx, waitSetup, 10*time.Second, func() bool {
		for _, s := range u.Events(0) {
			if c := bodies[s.Body()]; c != nil && s.IsMessage() && !s.IsEdit() && c.room == "" {
				c.room = s.Room
				w.byRoom[s.Room] = c
			}
		}
		return len(w.byRoom) == numChats
	})
	if err != nil {
		t.Fatalf("portals: %d of %d chats have one: %v", len(w.byRoom), numChats, err)
	}
	w.phases = append(w.phases, ph)
	t.Logf("20 portals ready (%d contacts, %d groups); wxsim took %s per incoming message", numChats-4, 4, perMsg.Round(time.Microsecond))
	return perMsg
}

// postIncoming makes the chat's contact (or a group member) write the message.
func (w *world) postIncoming(m *inMsg) {
	c := w.chats[m.chat]
	wm := wxsim.WorldMessage{From: c.wxid, Content: m.body}
	if c.group() {
		wm.From, wm.Chat = c.members[m.seq%len(c.members)], c.wxid
	}
	ref, err := w.ctl.Incoming(w.t.Context(), account, wm)
	if err != nil {
		w.t.Fatalf("wxsim incoming %q: %v", m.body, err)
	}
	m.ref = ref
}

// --- a trial ---------------------------------------------------------------------------

// trial runs one burst with a SIGKILL of the bridge at a random moment, and waits until
// everything is accounted for. wxsim takes a burst in well under a second while the bridge
// needs seconds to bridge it, and the Matrix user's sends take seconds too: odd trials
// kill within the WeChat burst (est.in, the last one's duration), even trials within the
// Matrix user's sends (est.out). It returns this trial's durations.
func (w *world) trial(n int, est estimate) estimate {
	t, ctx := w.t, w.t.Context()
	name := fmt.Sprintf("trial-%02d", n)
	ph := &phaseInfo{name: name}
	w.heal.setPhase(name)
	w.phases = append(w.phases, ph)

	seqs := make([]int, numChats)
	for range w.p.w2m {
		c := w.rng.IntN(numChats)
		ph.in = append(ph.in, &inMsg{phase: name, chat: c, seq: seqs[c], body: inBody(name, c, seqs[c])})
		seqs[c]++
	}
	for j := range w.p.m2w {
		c := w.rng.IntN(numChats)
		ph.out = append(ph.out, &outMsg{phase: name, chat: c, seq: j, body: outBody(name, c, j),
			txn: fmt.Sprintf("chaos-%d-%s-%03d", w.p.seed, name, j)})
	}
	window, windowName := est.in, "WeChat burst"
	if n%2 == 0 {
		window, windowName = est.out, "Matrix sends"
	}
	killDelay := time.Duration(w.rng.Int64N(int64(max(window, time.Millisecond))))

	var wg sync.WaitGroup
	var burstStart, burstEnd time.Time
	doneAt := make([]time.Time, len(ph.in))
	burstStart = time.Now()
	wg.Go(func() {
		for i, m := range ph.in {
			w.postIncoming(m)
			doneAt[i] = time.Now()
		}
		burstEnd = time.Now()
	})
	var sendErr error
	var sendEnd time.Time
	sentAt := make([]time.Time, len(ph.out))
	wg.Go(func() {
		defer func() { sendEnd = time.Now() }()
		for i, m := range ph.out {
			evt, tries, err := w.u.SendTextRetrying(ctx, w.chats[m.chat].room, m.body, m.txn)
			if err != nil {
				sendErr = err
				return
			}
			m.evt, m.tries = evt, tries
			sentAt[i] = time.Now()
		}
	})

	// The deliberate wait of the scenario: a random moment of the burst.
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(killDelay):
	}
	kctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ph.killAt = time.Now()
	err := w.e.killBridge(kctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range tailLines(w.e.bridgeLog, 8) {
		ph.logTail = append(ph.logTail, compactLog("", l))
	}
	// The bridge exits when it cannot reach the homeserver at startup (a Dendrite restart by
	// the healer); start it again then, a few times.
	for attempt := 1; ; attempt++ {
		pid, err := w.e.startBridge(name)
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err = w.e.waitBridgeReady(rctx, pid)
		cancel()
		if err == nil {
			break
		}
		if attempt == 5 {
			t.Fatal(err)
		}
		// A bridge that is alive but not ready (its requests hang on a wedged homeserver
		// until the client's 180 s timeout) must go before the next start: two bridges on
		// one database and one WeChat session would double everything.
		kctx, kcancel := context.WithTimeout(ctx, 10*time.Second)
		kerr := w.e.killBridge(kctx)
		kcancel()
		if kerr != nil && !harness.ProcessGone(pid) {
			t.Fatalf("%s: the bridge that did not become ready cannot be stopped: %v", name, kerr)
		}
		t.Logf("%s: bridge start %d: %v; killed it, starting it again; the end of its log and output:", name, attempt, err)
		for _, l := range tailLines(w.e.bridgeLog, 12) {
			t.Logf("    %s", compactLog("log", l))
		}
		for _, l := range tailLines(w.e.bridge.Stdout, 12) {
			t.Logf("    %s", compactLog("stdout", l))
		}
	}
	ready := time.Since(ph.killAt)
	wg.Wait()
	if sendErr != nil {
		t.Fatal(sendErr)
	}
	accepted := 0
	for _, at := range doneAt {
		if at.Before(ph.killAt) {
			accepted++
		}
	}
	tries := 0
	for _, m := range ph.out {
		tries += m.tries - 1
	}
	burst := burstEnd.Sub(burstStart)
	sentBefore := 0
	for _, at := range sentAt {
		if !at.IsZero() && at.Before(ph.killAt) {
			sentBefore++
		}
	}
	sends := sendEnd.Sub(burstStart)
	ph.note = fmt.Sprintf("kill in the %s after %s: W→M %d/%d posted (burst %s), M→W %d/%d sent (%s, %d client retries); ready %s later",
		windowName, killDelay.Round(time.Millisecond), accepted, len(ph.in), burst.Round(time.Millisecond),
		sentBefore, len(ph.out), sends.Round(time.Millisecond), tries, ready.Round(time.Millisecond))

	w.settle(ph, waitSettle)
	r := w.count(ph, w.u.Events(0), w.sent())
	t.Logf("%s: %s; settled %s after the kill; %s", name, ph.note, ph.settled.Round(time.Millisecond), r.short())
	return estimate{in: burst, out: sends}
}

// estimate is how long a trial's WeChat burst and Matrix sends take.
type estimate struct{ in, out time.Duration }

// settle long-polls /sync until every message of the phase is accounted for: each
// WeChat→Matrix body in Matrix, each Matrix→WeChat body in wxsim /sent or shown as failed.
func (w *world) settle(ph *phaseInfo, timeout time.Duration) {
	from := time.Now()
	err := w.u.WaitUntil(w.t.Context(), timeout, 2*time.Second, func() bool {
		evs := w.u.Events(0)
		have := map[string]bool{}
		for _, s := range evs {
			if s.IsMessage() && !s.IsEdit() {
				have[s.Body()] = true
			}
		}
		for _, m := range ph.in {
			if !have[m.body] {
				return false
			}
		}
		if len(ph.out) == 0 {
			return true
		}
		sent := map[string]bool{}
		for _, s := range w.fetchSent() {
			sent[s.Content] = true
		}
		failed := failedEvents(evs)
		for _, m := range ph.out {
			if !sent[m.body] && !failed[m.evt] {
				return false
			}
		}
		return true
	})
	ph.settled = time.Since(from)
	if !ph.killAt.IsZero() {
		ph.settled = time.Since(ph.killAt)
	}
	if err != nil {
		ph.settleFailed = true
		w.t.Logf("%s: not everything accounted for: %v (counting what is there)", ph.name, err)
	}
}

// failedEvents are the user's events the bridge marked as failed: a message status
// FAIL_* (com.beeper.message_send_status) or a notice that replies to them.
func failedEvents(evs []*harness.Seen) map[id.EventID]bool {
	out := map[id.EventID]bool{}
	for _, s := range evs {
		switch {
		case s.Evt.Type.Type == event.BeeperMessageStatus.Type:
			st := s.Str("status")
			if strings.HasPrefix(st, "FAIL") {
				if evt, _ := s.RelatesTo()["event_id"].(string); evt != "" {
					out[id.EventID(evt)] = true
				}
			}
		case s.IsMessage() && !s.IsEdit() && s.MsgType() == string(event.MsgNotice) && s.ReplyTo() != "":
			out[s.ReplyTo()] = true
		}
	}
	return out
}

func (w *world) fetchSent() []wxsim.SentMessage {
	sent, err := w.ctl.Sent(w.t.Context(), account)
	if err != nil {
		w.t.Fatalf("wxsim /sent: %v", err)
	}
	return sent
}

func (w *world) sent() []wxsim.SentMessage { return w.fetchSent() }

// --- homeserver outage ------------------------------------------------------------------

// outagePhase stops Dendrite, lets WeChat messages arrive while it is down, starts it again
// after the outage and waits until they are all in Matrix. Meanwhile the Matrix user also
// writes outageSends messages: the client retries each with its transaction id until the
// homeserver is back (as Element queues them), and they must reach WeChat once.
func (w *world) outagePhase() {
	t, ctx := w.t, w.t.Context()
	ph := &phaseInfo{name: "outage"}
	w.heal.setPhase(ph.name)
	w.heal.pause(true)
	w.phases = append(w.phases, ph)
	seqs := make([]int, numChats)
	for range w.p.outageMsgs {
		c := w.rng.IntN(numChats)
		ph.in = append(ph.in, &inMsg{phase: "outage", chat: c, seq: seqs[c], body: inBody("outage", c, seqs[c])})
		seqs[c]++
	}
	for j := range outageSends {
		c := w.rng.IntN(numChats)
		ph.out = append(ph.out, &outMsg{phase: "outage", chat: c, seq: j, body: outBody("outage", c, j),
			txn: fmt.Sprintf("chaos-%d-outage-%03d", w.p.seed, j)})
	}
	if err := w.e.stopHomeserver(ctx); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	var wg sync.WaitGroup
	var sendErr error
	wg.Go(func() {
		for _, m := range ph.out {
			evt, tries, err := w.u.SendTextRetrying(ctx, w.chats[m.chat].room, m.body, m.txn)
			if err != nil {
				sendErr = err
				return
			}
			m.evt, m.tries = evt, tries
		}
	})
	for _, m := range ph.in {
		w.postIncoming(m)
	}
	// The deliberate wait of the scenario: the homeserver stays away this long.
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(time.Until(down.Add(w.p.outage))):
	}
	if err := w.e.startHomeserver(ctx); err != nil {
		t.Fatal(err)
	}
	w.heal.pause(false)
	up := time.Now()
	wg.Wait()
	if sendErr != nil {
		t.Fatal(sendErr)
	}
	tries := 0
	for _, m := range ph.out {
		tries += m.tries - 1
	}
	ph.note = fmt.Sprintf("homeserver down %s while %d WeChat messages arrived and the user wrote %d (%d client retries with the same txn id)",
		up.Sub(down).Round(time.Millisecond), len(ph.in), len(ph.out), tries)
	w.settle(ph, waitSettle)
	ph.settled = time.Since(up)
	r := w.count(ph, w.u.Events(0), w.sent())
	t.Logf("outage: %s; all in Matrix %s after it came back; %s", ph.note, ph.settled.Round(time.Millisecond), r.short())
}

// finalPhase sends a sentinel each way in every chat and waits for them: what a trial
// doubled late would show before them.
func (w *world) finalPhase() {
	ph := &phaseInfo{name: "final"}
	w.heal.setPhase(ph.name)
	w.phases = append(w.phases, ph)
	for _, c := range w.chats {
		m := &inMsg{phase: "final", chat: c.idx, body: inBody("final", c.idx, 0)}
		w.postIncoming(m)
		ph.in = append(ph.in, m)
	}
	for _, c := range w.chats {
		m := &outMsg{phase: "final", chat: c.idx, seq: c.idx, body: outBody("final", c.idx, c.idx), txn: fmt.Sprintf("chaos-%d-final-%02d", w.p.seed, c.idx)}
		evt, tries, err := w.u.SendTextRetrying(w.t.Context(), c.room, m.body, m.txn)
		if err != nil {
			w.t.Fatal(err)
		}
		m.evt, m.tries = evt, tries
		ph.out = append(ph.out, m)
	}
	from := time.Now()
	w.settle(ph, waitSettle)
	ph.settled = time.Since(from)
	ph.note = "one sentinel each way in every chat"
}

// --- counting ---------------------------------------------------------------------------

// result are the counts of one phase.
type result struct {
	inSent, inLost, inDup, inOOO, inMisrouted              int
	outSent, outLost, outFailed, outDup, outOOO, outEchoes int
	outMisrouted                                           int
	problems                                               []problem
}

// problem is one finding, with the ids (WeChat MsgIds, Matrix event ids, ClientMsgIds) to
// look up in the bridge's logs.
type problem struct {
	text string
	keys []string
}

func (r *result) bad() bool {
	return r.inLost+r.inDup+r.inOOO+r.inMisrouted+r.outLost+r.outDup+r.outOOO+r.outEchoes+r.outMisrouted > 0
}

func (r *result) add(o result) {
	r.inSent += o.inSent
	r.inLost += o.inLost
	r.inDup += o.inDup
	r.inOOO += o.inOOO
	r.inMisrouted += o.inMisrouted
	r.outSent += o.outSent
	r.outLost += o.outLost
	r.outFailed += o.outFailed
	r.outDup += o.outDup
	r.outOOO += o.outOOO
	r.outEchoes += o.outEchoes
	r.outMisrouted += o.outMisrouted
}

func (r *result) short() string {
	return fmt.Sprintf("W→M %d: lost %d, duplicated %d, out of order %d; M→W %d: lost %d, duplicated %d, out of order %d, failed (shown) %d",
		r.inSent, r.inLost, r.inDup+r.inMisrouted, r.inOOO, r.outSent, r.outLost, r.outDup+r.outEchoes+r.outMisrouted, r.outOOO, r.outFailed)
}

// count compares the phase's plan with the Matrix log and wxsim /sent.
func (w *world) count(ph *phaseInfo, evs []*harness.Seen, sent []wxsim.SentMessage) result {
	var r result
	problem := func(keys []string, f string, a ...any) {
		r.problems = append(r.problems, problem{fmt.Sprintf(f, a...), keys})
	}

	// WeChat → Matrix: per chat, the bodies in room order.
	occ := map[string][]*harness.Seen{}
	perChat := map[int][]int{} // seq of each first occurrence, in room order
	for _, s := range evs {
		if !s.IsMessage() || s.IsEdit() {
			continue
		}
		p, ok := parseBody(s.Body())
		if !ok || p.phase != ph.name {
			continue
		}
		occ[s.Body()] = append(occ[s.Body()], s)
		if p.dir != "seq" || len(occ[s.Body()]) > 1 {
			continue
		}
		if c := w.byRoom[s.Room]; c == nil || c.idx != p.chat {
			r.inMisrouted++
			problem(nil, "W→M %q arrived in room %s, not in the portal of chat-%02d (%s)", s.Body(), s.Room, p.chat, w.chats[p.chat].room)
			continue
		}
		perChat[p.chat] = append(perChat[p.chat], p.n)
	}
	r.inSent = len(ph.in)
	for _, m := range ph.in {
		switch n := len(occ[m.body]); {
		case n == 0:
			r.inLost++
			problem([]string{m.ref.MsgID}, "W→M lost: %q (chat-%02d %s, MsgId %s)", m.body, m.chat, w.chats[m.chat].wxid, m.ref.MsgID)
		case n > 1:
			r.inDup += n - 1
			var ids []string
			keys := []string{m.ref.MsgID}
			for _, s := range occ[m.body] {
				ids = append(ids, fmt.Sprintf("%s from %s at %s", s.Evt.ID, s.Evt.Sender, s.At.Format("15:04:05.000")))
				keys = append(keys, string(s.Evt.ID))
			}
			problem(keys, "W→M duplicated ×%d: %q (chat-%02d, MsgId %s): %s", n, m.body, m.chat, m.ref.MsgID, strings.Join(ids, "; "))
		}
	}
	for c, seqs := range perChat {
		r.inOOO += inversions(seqs)
		if inversions(seqs) > 0 {
			problem(nil, "W→M out of order in chat-%02d: seq in room order %v", c, seqs)
		}
	}

	// Matrix → WeChat.
	r.outSent = len(ph.out)
	failed := failedEvents(evs)
	inSent := map[string][]wxsim.SentMessage{}
	sentOrder := map[int][]int{}
	toOf := map[int]string{}
	for _, s := range sent {
		p, ok := parseBody(s.Content)
		if !ok || p.phase != ph.name || p.dir != "mx" {
			continue
		}
		inSent[s.Content] = append(inSent[s.Content], s)
		if len(inSent[s.Content]) > 1 {
			continue
		}
		if prev, ok := toOf[p.chat]; ok && prev != s.To {
			r.outMisrouted++
			problem(nil, "M→W %q went to %s, earlier messages of chat-%02d to %s", s.Content, s.To, p.chat, prev)
		}
		toOf[p.chat] = s.To
		sentOrder[p.chat] = append(sentOrder[p.chat], p.n)
	}
	for _, m := range ph.out {
		got := inSent[m.body]
		switch {
		case len(got) == 0 && failed[m.evt]:
			r.outFailed++
			problem([]string{string(m.evt)}, "M→W shown as failed (allowed): %q (chat-%02d, event %s)", m.body, m.chat, m.evt)
		case len(got) == 0:
			r.outLost++
			problem([]string{string(m.evt)}, "M→W lost: %q (chat-%02d, event %s, txn %s): not in /sent and not shown as failed", m.body, m.chat, m.evt, m.txn)
		case len(got) > 1:
			r.outDup += len(got) - 1
			var ids []string
			keys := []string{string(m.evt)}
			for _, s := range got {
				ids = append(ids, fmt.Sprintf("MsgID %s ClientMsgId %s attempts %d", s.MsgID, s.ClientMsgID, s.Attempts))
				keys = append(keys, s.MsgID, s.ClientMsgID)
			}
			problem(keys, "M→W duplicated ×%d in /sent: %q (chat-%02d, event %s): %s", len(got), m.body, m.chat, m.evt, strings.Join(ids, "; "))
		}
		// On Matrix the user's message is there once. A copy the bridge put there (WeChat's
		// echo bridged back: by the double puppet, with its marker, or by a ghost) is the
		// bridge's fault; a second copy of the user's own send is the homeserver's (it
		// stored a client retry with the same transaction id twice while wedged), and is
		// only noted.
		if n := len(occ[m.body]); n > 1 {
			var ids []string
			keys := []string{string(m.evt)}
			bridged := 0
			for _, s := range occ[m.body] {
				_, puppet := s.Evt.Content.Raw["fi.mau.double_puppet_source"]
				if puppet || s.Evt.Sender != w.u.ID() {
					bridged++
				}
				ids = append(ids, fmt.Sprintf("%s from %s (bridged: %v)", s.Evt.ID, s.Evt.Sender, puppet || s.Evt.Sender != w.u.ID()))
				keys = append(keys, string(s.Evt.ID))
			}
			if bridged > 0 {
				r.outEchoes += bridged
				problem(keys, "M→W echoed back into Matrix ×%d: %q (chat-%02d): %s", bridged, m.body, m.chat, strings.Join(ids, "; "))
			} else {
				problem(keys, "note: the homeserver stored the user's send of %q %d times (chat-%02d; client retries with one transaction id): %s", m.body, n, m.chat, strings.Join(ids, "; "))
			}
		}
	}
	for c, order := range sentOrder {
		if n := inversions(order); n > 0 {
			r.outOOO += n
			problem(nil, "M→W out of order in /sent for chat-%02d: send indexes in /sent order %v", c, order)
		}
	}
	return r
}

// inversions counts the entries smaller than one before them: each is out of order.
func inversions(seq []int) int {
	n, hi := 0, -1
	for _, v := range seq {
		if v < hi {
			n++
		}
		hi = max(hi, v)
	}
	return n
}

// --- report -----------------------------------------------------------------------------

// report recounts every phase from the whole /sync log and /sent (so that a late duplicate
// counts against its trial), cross-checks the log with each portal's /messages history,
// prints the table and writes it to the summary file. It reports whether all is zero.
func (w *world) report(total time.Duration) bool {
	t, ctx := w.t, w.t.Context()
	evs := w.u.Events(0)
	sent := w.sent()

	// The homeserver's own history of every portal, as seen events.
	var hist []*harness.Seen
	for _, c := range w.chats {
		h, err := w.u.History(ctx, c.room)
		if err != nil {
			t.Errorf("history of %s: %v", c.room, err)
			continue
		}
		for _, e := range h {
			e.RoomID = c.room
			hist = append(hist, &harness.Seen{Room: c.room, Section: "join", Evt: e})
		}
	}
	var b strings.Builder
	hsDB := os.Getenv("CHAOS_HS_DB")
	if hsDB == "" {
		hsDB = "sqlite"
	}
	fmt.Fprintf(&b, "chaos summary (seed %d, %d chats: 16 contacts + 4 groups; Dendrite on %s; runtime %s)\n", w.p.seed, numChats, hsDB, total.Round(time.Second))
	fmt.Fprintf(&b, "%-10s | %6s %5s %5s %5s | %6s %5s %5s %5s %6s | %s\n", "phase", "W→M", "lost", "dup", "order", "M→W", "lost", "dup", "order", "failed", "what happened")
	var trials, all result
	allOK := true
	var details strings.Builder
	for _, ph := range w.phases {
		if ph.name == "setup" {
			continue
		}
		r := w.count(ph, evs, sent)
		rh := w.count(ph, hist, sent)
		// The /sync log is what counts (the events the user's client got); Dendrite's
		// /messages pagination is only a cross-check, its differences are listed.
		if rh.inLost != r.inLost || rh.inDup != r.inDup || rh.inOOO != r.inOOO || rh.outEchoes != r.outEchoes {
			r.problems = append(r.problems, problem{text: "note: Dendrite's /messages history differs from the /sync log: /messages says " + rh.short()})
			for _, p := range rh.problems {
				r.problems = append(r.problems, problem{text: "  /messages: " + p.text})
			}
		}
		if strings.HasPrefix(ph.name, "trial-") {
			trials.add(r)
		}
		all.add(r)
		note := ph.note
		if n := w.heal.count(ph.name); n > 0 {
			note += fmt.Sprintf(" — Dendrite wedged, restarted %d×", n)
		}
		if ph.settleFailed {
			note += " — NOT SETTLED within the deadline"
		}
		fmt.Fprintf(&b, "%-10s | %6d %5d %5d %5d | %6d %5d %5d %5d %6d | %s; settled %s\n", ph.name,
			r.inSent, r.inLost, r.inDup+r.inMisrouted, r.inOOO, r.outSent, r.outLost, r.outDup+r.outEchoes+r.outMisrouted, r.outOOO, r.outFailed,
			note, ph.settled.Round(time.Millisecond))
		if r.bad() || ph.settleFailed {
			allOK = false
		}
		if len(r.problems) > 0 {
			fmt.Fprintf(&details, "\n%s (%s):\n", ph.name, ph.note)
			if !ph.killAt.IsZero() {
				fmt.Fprintf(&details, "  killed at %s\n", ph.killAt.Format(time.RFC3339Nano))
			}
			for _, p := range r.problems {
				fmt.Fprintf(&details, "  %s\n", p.text)
				if len(p.keys) > 0 && r.bad() {
					for _, l := range w.logExcerpt(p.keys, 30) {
						fmt.Fprintf(&details, "      %s\n", l)
					}
				}
			}
			if r.bad() && len(ph.logTail) > 0 {
				fmt.Fprintf(&details, "  the bridge log's last lines before the kill:\n")
				for _, l := range ph.logTail {
					fmt.Fprintf(&details, "      %s\n", l)
				}
			}
		}
	}
	fmt.Fprintf(&b, "%-10s | %6d %5d %5d %5d | %6d %5d %5d %5d %6d | %d trials\n", "trials", trials.inSent, trials.inLost, trials.inDup+trials.inMisrouted, trials.inOOO,
		trials.outSent, trials.outLost, trials.outDup+trials.outEchoes+trials.outMisrouted, trials.outOOO, trials.outFailed, w.p.trials)
	fmt.Fprintf(&b, "%-10s | %6d %5d %5d %5d | %6d %5d %5d %5d %6d | trials + outage + final\n", "total", all.inSent, all.inLost, all.inDup+all.inMisrouted, all.inOOO,
		all.outSent, all.outLost, all.outDup+all.outEchoes+all.outMisrouted, all.outOOO, all.outFailed)
	for _, wn := range w.u.Warnings() {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	verdict := "PASS: 0 lost, 0 duplicated, 0 out of order in every trial, both directions"
	if !allOK {
		verdict = "FAIL: see the details below"
	}
	fmt.Fprintf(&b, "%s\n", verdict)
	text := b.String() + details.String()
	t.Log("\n" + text)
	if err := os.WriteFile(w.e.summary, []byte(b.String()), 0o644); err != nil {
		t.Errorf("summary: %v", err)
	}
	if details.Len() > 0 {
		_ = os.WriteFile(filepath.Join(w.e.runDir, "details.txt"), []byte(details.String()), 0o644)
	}
	return allOK
}

// tailLines returns the last n lines of a file.
func tailLines(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return []string{fmt.Sprintf("(%v)", err)}
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 4*n {
			lines = slices.Clone(lines[len(lines)-n:])
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// logExcerpt returns the bridge log lines (all starts, oldest first) that mention any of
// keys, compacted, at most n.
func (w *world) logExcerpt(keys []string, n int) []string {
	files, _ := filepath.Glob(filepath.Join(w.e.runDir, "bridge-*.log"))
	slices.Sort(files)
	files = append(files, w.e.bridgeLog)
	var out []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			line := sc.Text()
			for _, k := range keys {
				if k != "" && strings.Contains(line, k) {
					out = append(out, compactLog(filepath.Base(f), line))
					break
				}
			}
		}
		fh.Close()
	}
	if len(out) > n {
		out = append(out[:n], fmt.Sprintf("… %d more", len(out)-n))
	}
	return out
}

// compactLog shortens a JSON log line of the bridge to its time, message and ids.
func compactLog(file, line string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return file + " " + line
	}
	var b strings.Builder
	if file != "" {
		b.WriteString(file + " ")
	}
	ts, _ := m["time"].(string)
	if i := strings.IndexByte(ts, 'T'); i >= 0 {
		ts = ts[i+1:]
	}
	fmt.Fprintf(&b, "%s %v %q", ts, m["level"], m["message"])
	for _, k := range []string{"wechat_msg_id", "event_id", "existing_mxid", "method", "url", "status_code", "error", "client_msg_id", "messages"} {
		if v, ok := m[k]; ok {
			s := fmt.Sprint(v)
			if len(s) > 140 {
				s = s[:140] + "…"
			}
			fmt.Fprintf(&b, " %s=%s", k, s)
		}
	}
	return b.String()
}
