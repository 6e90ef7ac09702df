//go:build bench

package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// params are the sizes of one run; full mode is the README's, quick mode CI's.
// synccheckHold is how long wxsim holds an idle synccheck, as the real WeChat does: that
// is what idle logins cost. The idle windows are a whole number of holds: the logins'
// polls run in step, so a window of 60 s counted two or three rounds of them, and the
// CPU measured moved by half with that alone.
//
// BENCH_HOLD sets another hold for the run. A short one (2s) is not what a login costs,
// but it makes the polls many: the CPU per poll then rests on many more ticks of the
// kernel's CPU clock, and the idle profile has enough samples to compare two builds.
const synccheckHold = 25 * time.Second

type params struct {
	quick                bool
	latMsgs, latChats    int
	latRate              float64 // messages per second
	tpMsgs, tpChats      int
	tpRounds             int // the burst's turns per path
	m2wMsgs              int
	m2wRate              float64
	logins, loginWorkers int
	idle                 time.Duration
	hold                 time.Duration // wxsim's synccheck hold (BENCH_HOLD)
	// phases are the parts to run (BENCH_PHASES; all by default).
	phases map[string]bool
}

func (p params) run(phase string) bool { return len(p.phases) == 0 || p.phases[phase] }

func loadParams() params {
	quick := os.Getenv("BENCH_QUICK") == "1" || os.Getenv("CI") == "true"
	p := params{quick: quick, latChats: 10, latRate: 20, m2wRate: 5, loginWorkers: 4, tpRounds: 2, hold: synccheckHold}
	if d, err := time.ParseDuration(os.Getenv("BENCH_HOLD")); err == nil && d >= time.Second {
		p.hold = d.Round(time.Second)
	}
	if quick {
		p.latMsgs, p.tpMsgs, p.tpChats, p.m2wMsgs, p.logins, p.idle = 100, 300, 10, 20, 20, 10*time.Second
		p.tpRounds = 1
	} else {
		// Three holds, and at least 30 s of them with a short hold.
		holds := max(3, int((30*time.Second+p.hold-1)/p.hold))
		p.latMsgs, p.tpMsgs, p.tpChats, p.m2wMsgs, p.logins, p.idle = 600, 5000, 100, 100, 1000, time.Duration(holds)*p.hold
	}
	envInt := func(k string, dst *int) {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
			*dst = v
		}
	}
	envInt("BENCH_LAT_MSGS", &p.latMsgs)
	envInt("BENCH_TP_MSGS", &p.tpMsgs)
	envInt("BENCH_TP_CHATS", &p.tpChats)
	envInt("BENCH_TP_ROUNDS", &p.tpRounds)
	envInt("BENCH_M2W_MSGS", &p.m2wMsgs)
	envInt("BENCH_LOGINS", &p.logins)
	envInt("BENCH_LOGIN_WORKERS", &p.loginWorkers)
	if v, err := strconv.ParseFloat(os.Getenv("BENCH_LAT_RATE"), 64); err == nil && v > 0 {
		p.latRate = v
	}
	idle := int(p.idle / time.Second)
	envInt("BENCH_IDLE_S", &idle)
	p.idle = time.Duration(idle) * time.Second
	p.tpChats = max(p.tpChats, p.latChats)
	if v := os.Getenv("BENCH_PHASES"); v != "" {
		p.phases = map[string]bool{}
		for _, ph := range strings.Split(v, ",") {
			p.phases[strings.TrimSpace(ph)] = true
		}
	}
	return p
}

const obsWxid = "wxid_observer"

// waitSetup bounds each wait of the setup (portals, the observer's joins).
const waitSetup = 30 * time.Minute

// register registers a Matrix user that only sends (it never syncs).
func register(ctx context.Context, hsURL, localpart string) (*harness.MatrixUser, error) {
	return harness.Register(ctx, hsURL, localpart, "bench-"+randomHex(8), harness.Options{HTTP: httpClient})
}

// directRoom creates a DM of sender's with the observer, named name, and waits until the
// observer has joined it.
func directRoom(ctx context.Context, sender, obs *harness.MatrixUser, name string) (id.RoomID, error) {
	room, err := sender.CreateDM(ctx, obs.ID(), name)
	if err != nil {
		return "", err
	}
	if err := obs.WaitUntil(ctx, waitSetup, 0, func() bool { return obs.Joined(room) }); err != nil {
		return "", fmt.Errorf("observer never joined %s: %w", name, err)
	}
	return room, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func localpart(prefix string, i int) string { return strings.ToLower(fmt.Sprintf("%s%04d", prefix, i)) }

func chatWxid(i int) string { return fmt.Sprintf("wxid_chat%03d", i) }

// row is one line of the result table: the bridge, the floor (the appservice sending the
// same messages itself, where there is one) and the ordinary Matrix client's baseline.
type row struct{ measure, bridge, floor, floorRatio, baseline, ratio, target, verdict string }

type report struct {
	mu   sync.Mutex
	rows []row
}

func (r *report) add(x row) {
	r.mu.Lock()
	r.rows = append(r.rows, x)
	r.mu.Unlock()
	fmt.Printf("bench: %s: bridge %s, floor %s (ratio %s), baseline %s, ratio %s\n", x.measure, x.bridge, orDash(x.floor), orDash(x.floorRatio), x.baseline, x.ratio)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}

func TestBench(t *testing.T) {
	e := loadEnv(t)
	p := loadParams()
	logLevel := os.Getenv("BENCH_LOG_LEVEL")
	if logLevel == "" {
		logLevel = "info"
	}
	soakP, soaking := loadSoak()
	// The whole benchmark's bound; a soak runs for as long as it is asked to, plus its
	// setup and the final count.
	limit := 90 * time.Minute
	if soaking {
		limit = soakP.d + 30*time.Minute
	}
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	if err := e.prepareConfig(logLevel); err != nil {
		t.Fatal(err)
	}
	ctl := &wxsim.Control{BaseURL: e.wxsimURL, HTTP: httpClient}
	if _, err := ctl.Settings(ctx, map[string]any{"synccheck_hold_ms": p.hold.Milliseconds()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.startBridge(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer scancel()
		_ = e.stopBridge(sctx, syscall.SIGTERM)
	}()
	rep := &report{}
	mode := "full"
	if p.quick {
		mode = "quick"
	}
	if soaking {
		mode = "soak " + soakP.d.String()
		p.tpChats = max(p.tpChats, soakP.chats)
	}
	fmt.Printf("bench: mode %s, %+v, bridge log level %s\n", mode, p, logLevel)

	// --- the observer and its WeChat account ---------------------------------------------
	// A Matrix user whose /sync long poll runs for the whole benchmark: it records when
	// each message arrives and joins every room it is invited to.
	obs, err := harness.Register(ctx, e.hsURL, "observer", "bench-"+randomHex(8), harness.Options{
		HTTP:          httpClient,
		TimelineLimit: 5000,
		RoomsOnly:     true, // only messages matter; no presence or account data
		JoinInvites:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithCancel(ctx)
	obsStopped := obs.SyncInBackground(octx)
	defer func() { ocancel(); <-obsStopped }()
	if _, err := ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: obsWxid, Nickname: "Observer", Uin: 5000, Host: "wx2.qq.com"}); err != nil {
		t.Fatal(err)
	}
	if err := parallel(ctx, 8, p.tpChats, func(i int) error {
		nick := fmt.Sprintf("Chat %d", i)
		_, err := ctl.AddContact(ctx, obsWxid, wxsim.ContactSpec{Wxid: chatWxid(i), Nickname: &nick})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.login(ctx, ctl, obs.ID(), obsWxid); err != nil {
		t.Fatalf("observer login: %v", err)
	}

	// Portals for every chat, and the observer in each (one message per chat).
	t0 := time.Now()
	warm := make([]string, p.tpChats)
	for i := range warm {
		warm[i] = fmt.Sprintf("warm-up %d", i)
	}
	if err := parallel(ctx, 4, p.tpChats, func(i int) error {
		_, err := ctl.Incoming(ctx, obsWxid, wxsim.WorldMessage{From: chatWxid(i), Type: 1, Content: warm[i]})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := obs.WaitBodies(ctx, waitSetup, warm); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	portals := make([]id.RoomID, p.tpChats)
	for i, b := range warm {
		portals[i] = obs.FirstMessage(b).Room
	}
	// Wait until the observer has joined every portal (the warm-up message may have been
	// seen through a room joined for an earlier chat's invite only once joined).
	if err := obs.WaitUntil(ctx, waitSetup, 0, func() bool {
		for _, r := range portals {
			if !obs.Joined(r) {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatalf("the observer in every portal: %v", err)
	}
	fmt.Printf("bench: %d portals ready in %s\n", p.tpChats, time.Since(t0).Round(time.Millisecond))
	if soaking {
		soak(ctx, t, e, ctl, obs, portals[:soakP.chats], soakP, rep)
		ocancel()
		<-obsStopped
		printReport(rep, p, mode, logLevel)
		return
	}

	// The floor: the appservice itself sends as each chat's ghost (its as_token with
	// user_id, the homeserver calls the bridge makes for a message) into the same portals,
	// with no WeChat side and no bridge logic; the observer sees it the same way.
	floor, err := floorSenders(e, obs, warm)
	if err != nil {
		t.Fatal(err)
	}

	// Baseline senders: one "second user" for latency (in latChats rooms), one sender per
	// chat for throughput, each room with the observer in it.
	t0 = time.Now()
	direct, err := register(ctx, e.hsURL, "direct")
	if err != nil {
		t.Fatal(err)
	}
	directRooms := make([]id.RoomID, p.latChats)
	for i := range directRooms {
		if directRooms[i], err = directRoom(ctx, direct, obs, fmt.Sprintf("direct %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	senders := make([]*harness.MatrixUser, p.tpChats)
	senderRooms := make([]id.RoomID, p.tpChats)
	if p.run("burst") {
		if err := parallel(ctx, 4, p.tpChats, func(i int) error {
			u, err := register(ctx, e.hsURL, localpart("sender", i))
			if err != nil {
				return err
			}
			senders[i] = u
			senderRooms[i], err = directRoom(ctx, u, obs, fmt.Sprintf("sender %d", i))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("bench: baseline rooms ready in %s\n", time.Since(t0).Round(time.Millisecond))

	// --- 1. WeChat → Matrix latency ------------------------------------------------------
	if p.run("latency") {
		var bridged, floorLat []time.Duration
		var timings sendTimings
		// Bridge, floor, floor, bridge, bridge, floor, floor, bridge: drift of the machine
		// over the phase hits both alike, and neither always follows the other (the
		// homeserver is still busy with the last messages of the path before).
		const latRounds = 4
		for round := range latRounds {
			n := p.latMsgs / latRounds
			viaBridge := func() error {
				b, err := paced(ctx, obs, &timings, n, p.latRate, fmt.Sprintf("lat-wx%d", round), func(i int, body string) error {
					_, err := ctl.Incoming(ctx, obsWxid, wxsim.WorldMessage{From: chatWxid(i % p.latChats), Type: 1, Content: body})
					return err
				})
				if err != nil {
					return fmt.Errorf("W→M latency: %w", err)
				}
				bridged = append(bridged, b...)
				return nil
			}
			viaFloor := func() error {
				f, err := paced(ctx, obs, &timings, n, p.latRate, fmt.Sprintf("lat-as%d", round), func(i int, body string) error {
					return floor[i%p.latChats].send(ctx, body)
				})
				if err != nil {
					return fmt.Errorf("floor latency: %w", err)
				}
				floorLat = append(floorLat, f...)
				return nil
			}
			order := []func() error{viaBridge, viaFloor}
			if round%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, path := range order {
				if err := path(); err != nil {
					t.Fatal(err)
				}
			}
		}
		slices.Sort(bridged)
		slices.Sort(floorLat)
		straight, err := paced(ctx, obs, &timings, p.latMsgs, p.latRate, "lat-mx", func(i int, body string) error {
			_, err := direct.SendText(ctx, directRooms[i%p.latChats], body, "")
			return err
		})
		if err != nil {
			t.Fatalf("direct latency: %v", err)
		}
		if err := timings.write(filepath.Join(e.runDir, "latency.csv")); err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			name string
			p    float64
		}{{"p50", 0.50}, {"p99", 0.99}} {
			b, f, d := percentile(bridged, q.p), percentile(floorLat, q.p), percentile(straight, q.p)
			rf := float64(b) / float64(f)
			x := row{measure: fmt.Sprintf("1. WeChat→Matrix latency %s (%d msgs, %.0f/s, %d chats)", q.name, p.latMsgs, p.latRate, p.latChats),
				bridge: ms(b), floor: ms(f), floorRatio: fmt.Sprintf("%.2f", rf),
				baseline: ms(d) + " (Matrix user → homeserver → observer)", ratio: fmt.Sprintf("%.2f", float64(b)/float64(d))}
			if q.name == "p50" {
				x.target, x.verdict = "bridge/floor ≤ 1.15", verdict(rf <= 1.15)
			}
			rep.add(x)
		}
	}

	// --- 2. WeChat → Matrix throughput (and 5. CPU per message) -------------------------
	per := p.tpMsgs / p.tpChats
	n := per * p.tpChats
	if p.run("burst") {
		runtime.GC()
		profiled := make(chan struct{})
		go func() { // BENCH_PPROF=1: where the bridge's CPU goes during the burst
			defer close(profiled)
			e.saveProfileAs(ctx, "profile?seconds=30", "cpu-burst")
		}()
		// The three paths take turns, p.tpRounds times (bridge, floor, client, bridge, …),
		// each round a share of the messages, so that the homeserver's drift over the phase
		// (its database grows with every message) hits each path alike.
		type pathRun struct {
			tag  string
			send func(c int, body string) error
			msgs int
			took time.Duration
			cpu  [2]time.Duration
		}
		paths := []*pathRun{
			{tag: "tp-wx", send: func(c int, body string) error {
				_, err := ctl.Incoming(ctx, obsWxid, wxsim.WorldMessage{From: chatWxid(c), Type: 1, Content: body})
				return err
			}},
			{tag: "tp-as", send: func(c int, body string) error { return floor[c].send(ctx, body) }},
			{tag: "tp-mx", send: func(c int, body string) error {
				_, err := senders[c].SendText(ctx, senderRooms[c], body, "")
				return err
			}},
		}
		for r := range p.tpRounds {
			share := per / p.tpRounds
			if r == p.tpRounds-1 {
				share = per - share*(p.tpRounds-1)
			}
			for _, pr := range paths {
				meter := startCPU(e.bridgePID(), e.hsPID)
				tStart := time.Now()
				bodies, err := burst(ctx, obs, p.tpChats, share, pr.tag, func(c, _ int, body string) error { return pr.send(c, body) })
				if err != nil {
					t.Fatalf("burst %s round %d: %v", pr.tag, r+1, err)
				}
				used, _ := meter.stop()
				pr.took += lastSighting(obs, bodies).Sub(tStart)
				pr.msgs += share * p.tpChats
				pr.cpu[0] += used[0]
				pr.cpu[1] += used[1]
				fmt.Printf("bench: burst round %d %s: %.0f msg/s\n", r+1, pr.tag, float64(share*p.tpChats)/lastSighting(obs, bodies).Sub(tStart).Seconds())
			}
		}
		<-profiled
		tp := func(pr *pathRun) float64 { return float64(pr.msgs) / pr.took.Seconds() }
		bridgedTP, floorTP, directTP := tp(paths[0]), tp(paths[1]), tp(paths[2])
		cpuB, cpuF, cpuD := paths[0].cpu, paths[1].cpu, paths[2].cpu
		rf := bridgedTP / floorTP
		rep.add(row{measure: fmt.Sprintf("2. WeChat→Matrix throughput (%d msgs over %d chats)", n, p.tpChats),
			bridge: fmt.Sprintf("%.0f msg/s", bridgedTP), floor: fmt.Sprintf("%.0f msg/s", floorTP), floorRatio: fmt.Sprintf("%.2f", rf),
			baseline: fmt.Sprintf("%.0f msg/s (%d Matrix senders, one per room)", directTP, p.tpChats),
			ratio:    fmt.Sprintf("%.2f", bridgedTP/directTP), target: "bridge/floor ≥ 0.90", verdict: verdict(rf >= 0.90)})

		// --- 5. bridge CPU per message ------------------------------------------------------
		perMsg := func(d time.Duration) float64 { return float64(d/time.Duration(n)) / 1e3 }
		r := float64(cpuB[0]) / float64(cpuB[1])
		rep.add(row{measure: fmt.Sprintf("5. CPU per bridged message (burst of %d)", n),
			bridge:   fmt.Sprintf("%.0f µs", perMsg(cpuB[0])),
			floor:    fmt.Sprintf("homeserver %.0f µs per message of the floor", perMsg(cpuF[1])),
			baseline: fmt.Sprintf("homeserver %.0f µs in the same burst (%.0f µs per message sent straight)", perMsg(cpuB[1]), perMsg(cpuD[1])),
			ratio:    fmt.Sprintf("%.3f", r), target: "≤ 0.10 of the homeserver", verdict: verdict(r <= 0.10)})
	}

	// --- 3. Matrix → WeChat latency -------------------------------------------------------
	if p.run("m2w") {
		m2w, err := matrixToWeChat(ctx, ctl, obs, portals[:p.latChats], p.m2wMsgs, p.m2wRate)
		if err != nil {
			t.Fatalf("M→W latency: %v", err)
		}
		for _, q := range []struct {
			name string
			p    float64
		}{{"p50", 0.50}, {"p99", 0.99}} {
			rep.add(row{measure: fmt.Sprintf("3. Matrix→WeChat latency %s (%d msgs, %.0f/s)", q.name, p.m2wMsgs, p.m2wRate),
				bridge: ms(percentile(m2w, q.p)), baseline: "–", ratio: "–"})
		}
	}

	// --- 4. scale: K idle logins -----------------------------------------------------------
	if p.run("scale") {
		scale(ctx, t, e, ctl, obs, p, rep)
	}

	ocancel()
	<-obsStopped
	// What may have made the observer's arrival times late or incomplete.
	for _, w := range obs.Warnings() {
		fmt.Printf("bench: observer: %s\n", w)
	}
	printReport(rep, p, mode, logLevel)
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, workers, n int, f func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// paced sends n messages at rate per second (one goroutine per message, so a slow send
// does not delay the next) and returns the sorted latencies from the start of each send
// to the observer's /sync returning it; each message's times also go to tr.
func paced(ctx context.Context, obs *harness.MatrixUser, tr *sendTimings, n int, rate float64, tag string, send func(i int, body string) error) ([]time.Duration, error) {
	run := randomHex(3)
	bodies := make([]string, n)
	starts := make([]time.Time, n)
	returned := make([]time.Time, n)
	errs := make(chan error, n)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range n {
		bodies[i] = fmt.Sprintf("%s %s %d", tag, run, i)
		starts[i] = time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := send(i, bodies[i]); err != nil {
				errs <- err
			}
			returned[i] = time.Now()
		}()
		if i < n-1 {
			select {
			case <-tick.C: // pacing, not synchronisation
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	if err := obs.WaitBodies(ctx, 3*time.Minute, bodies); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, n)
	for i, b := range bodies {
		seen := obs.FirstMessage(b).At
		lat[i] = seen.Sub(starts[i])
		tr.rows = append(tr.rows, sendTiming{body: b, start: starts[i], returned: returned[i], seen: seen})
	}
	slices.Sort(lat)
	return lat, nil
}

// sendTimings keeps, for each message of the latency phase, when its send began, when
// the send call returned (for the bridge's path: when wxsim had the message) and when
// the observer saw it, so that where a path's time goes can be split afterwards (with
// the bridge's debug log, which times its own send of the same body).
type sendTimings struct{ rows []sendTiming }

type sendTiming struct {
	body                  string
	start, returned, seen time.Time
}

// write saves the timings as CSV, times in Unix nanoseconds.
func (tr *sendTimings) write(path string) error {
	var sb strings.Builder
	sb.WriteString("body,start_ns,returned_ns,seen_ns\n")
	for _, r := range tr.rows {
		fmt.Fprintf(&sb, "%s,%d,%d,%d\n", r.body, r.start.UnixNano(), r.returned.UnixNano(), r.seen.UnixNano())
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

// burst sends per messages in each of chats chats, one goroutine per chat sending its
// messages one after the other, and waits until the observer has all of them.
func burst(ctx context.Context, obs *harness.MatrixUser, chats, per int, tag string, send func(c, i int, body string) error) ([]string, error) {
	run := randomHex(3)
	bodies := make([]string, 0, chats*per)
	for c := range chats {
		for i := range per {
			bodies = append(bodies, fmt.Sprintf("%s %s %d/%d", tag, run, c, i))
		}
	}
	if err := parallel(ctx, chats, chats, func(c int) error {
		for i := range per {
			if err := send(c, i, bodies[c*per+i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return bodies, obs.WaitBodies(ctx, 20*time.Minute, bodies)
}

func lastSighting(obs *harness.MatrixUser, bodies []string) time.Time {
	var last time.Time
	for _, b := range bodies {
		if s := obs.FirstMessage(b); s != nil && s.At.After(last) {
			last = s.At
		}
	}
	return last
}

// matrixToWeChat sends n messages from the observer into the portals at rate per second
// and polls wxsim's /sent (an external process: a 10 ms ticker) for each.
func matrixToWeChat(ctx context.Context, ctl *wxsim.Control, obs *harness.MatrixUser, rooms []id.RoomID, n int, rate float64) ([]time.Duration, error) {
	run := randomHex(3)
	var mu sync.Mutex
	starts := map[string]time.Time{}
	arrived := map[string]time.Time{}
	errs := make(chan error, n)
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			sent, err := ctl.Sent(pctx, obsWxid)
			now := time.Now()
			if err == nil {
				mu.Lock()
				for _, s := range sent {
					if _, ok := arrived[s.Content]; !ok {
						arrived[s.Content] = now
					}
				}
				done := len(starts) == n
				for b := range starts {
					if _, ok := arrived[b]; !ok {
						done = false
						break
					}
				}
				mu.Unlock()
				if done {
					return
				}
			}
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for i := range n {
		body := fmt.Sprintf("m2w %s %d", run, i)
		mu.Lock()
		starts[body] = time.Now()
		mu.Unlock()
		go func() {
			if _, err := obs.SendText(ctx, rooms[i%len(rooms)], body, ""); err != nil {
				errs <- err
			}
		}()
		if i < n-1 {
			select {
			case <-tick.C:
			case err := <-errs:
				return nil, err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	select {
	case <-pollDone:
	case <-time.After(2 * time.Minute):
		pcancel()
		<-pollDone
		return nil, fmt.Errorf("not every Matrix message reached wxsim within 2 minutes")
	}
	mu.Lock()
	defer mu.Unlock()
	lat := make([]time.Duration, 0, n)
	for b, s := range starts {
		lat = append(lat, arrived[b].Sub(s))
	}
	slices.Sort(lat)
	return lat, nil
}

func printReport(rep *report, p params, mode, logLevel string) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n## wxbridge benchmark (%s mode)\n\n", mode)
	fmt.Fprintf(&sb, "| measure | bridge | floor: the appservice itself (same run) | bridge/floor | ordinary client (same run) | bridge/client | target | |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.rows {
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.measure, r.bridge, orDash(r.floor), orDash(r.floorRatio), r.baseline, r.ratio, r.target, r.verdict)
	}
	fmt.Fprintf(&sb, "\nbridge log level: %s; wxsim synccheck hold: %s\n", logLevel, p.hold)
	fmt.Print(sb.String())
	if out := os.Getenv("BENCH_RESULT"); out != "" {
		_ = os.WriteFile(out, []byte(sb.String()), 0o644)
	}
}

// floorSender sends as one ghost with the appservice's token, as the bridge does.
type floorSender struct {
	cli  *mautrix.Client
	room id.RoomID
}

// floorMsgID stands in for the WeChat message ID the bridge puts in each event.
var floorMsgID atomic.Int64

// send makes the request the bridge makes for a WeChat text (its debug log shows it):
// the same content keys and a timestamp of whole seconds, as WeChat's CreateTime gives.
func (f *floorSender) send(ctx context.Context, body string) error {
	_, err := f.cli.SendMessageEvent(ctx, f.room, event.EventMessage, map[string]any{
		"msgtype": event.MsgText, "body": body, "m.mentions": map[string]any{},
		"com.beeper.disappearing_timer": map[string]any{},
		"fi.wxbridge.wechat_msg_id":     strconv.FormatInt(1_000_000_000_000_000_000+floorMsgID.Add(1), 10),
	}, mautrix.ReqSendEvent{Timestamp: time.Now().Truncate(time.Second).UnixMilli()})
	return err
}

// floorSenders makes one sender per portal: the ghost that wrote its warm-up message
// (what the observer saw, so no guess about the ghost's Matrix ID), in that portal.
func floorSenders(e *env, obs *harness.MatrixUser, warm []string) ([]*floorSender, error) {
	reg, err := appservice.LoadRegistration(e.bridge.Registration)
	if err != nil {
		return nil, err
	}
	out := make([]*floorSender, len(warm))
	for i, b := range warm {
		seen := obs.FirstMessage(b)
		cli, err := mautrix.NewClient(e.hsURL, seen.Evt.Sender, reg.AppToken)
		if err != nil {
			return nil, err
		}
		cli.SetAppServiceUserID = true
		cli.Client = httpClient
		out[i] = &floorSender{cli: cli, room: seen.Room}
	}
	return out, nil
}
