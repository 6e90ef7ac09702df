//go:build bench

package bench

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// soakParams is the steady traffic of BENCH_SOAK (the defaults).
type soakParams struct {
	d        time.Duration // BENCH_SOAK
	w2mRate  float64       // messages per second from WeChat, round robin over the chats
	m2wRate  float64       // messages per second from Matrix
	chats    int
	relogin  time.Duration // a WeChat session ends (and the phone confirms a new one) this often
	sampling time.Duration
}

func loadSoak() (soakParams, bool) {
	v := os.Getenv("BENCH_SOAK")
	if v == "" {
		return soakParams{}, false
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		fmt.Printf("bench: BENCH_SOAK=%q is not a duration; running the benchmark instead\n", v)
		return soakParams{}, false
	}
	s := soakParams{d: d, w2mRate: 10, m2wRate: 1, chats: 50, relogin: 15 * time.Minute, sampling: time.Minute}
	if r, err := time.ParseDuration(os.Getenv("BENCH_SOAK_RELOGIN")); err == nil && r > 0 {
		s.relogin = r
	}
	if r, err := time.ParseDuration(os.Getenv("BENCH_SOAK_SAMPLE")); err == nil && r > 0 {
		s.sampling = r
	}
	return s, true
}

// soakSample is one minute's look at the bridge process.
type soakSample struct {
	at          time.Duration // since the soak started
	life        time.Duration // since the bridge process started (the restart starts a new one)
	rss         int64
	goHeld      int64 // what the Go runtime holds from the OS (Sys − HeapReleased); 0 if unread
	goHeapInuse int64 // the Go heap's spans in use (HeapInuse): live objects and the GC's headroom
	// RSS as the kernel splits it: anonymous memory (the Go runtime's, and modernc's libc
	// heap, where SQLite keeps its page cache and statements), file pages (the binary's
	// code and data, and SQLite's WAL index mapped from the -shm file) and shared memory
	// (tmpfs, so the WAL index when the database is on one).
	rssAnon, rssFile, rssShmem int64
	goroutines, fds            int
	// dbConns is how many connections the bridge holds open to its SQLite database (the
	// descriptors on the database file): each keeps its own page cache.
	dbConns int
	// connLoops is how many of the goroutines are the read and write loops of pooled HTTP
	// client connections (two per connection, to the homeserver or WeChat): they come and
	// go with the traffic's concurrency, up to the pool's bound, and are not a leak.
	connLoops            int
	dbBytes              int64
	sentW2M, sentM2W     int64
	restarted, sessionUp bool
}

// soak runs steady traffic both ways for s.d, ending the WeChat session every s.relogin
// (the push login the bridge then asks for is confirmed on the "phone") and restarting
// the bridge once in the middle, and samples the process every s.sampling. At the end
// every message must have arrived exactly once.
func soak(ctx context.Context, t *testing.T, e *env, ctl *wxsim.Control, obs *harness.MatrixUser, portals []id.RoomID, s soakParams, rep *report) {
	run := randomHex(3)
	start := time.Now()
	// The window starts after 10 minutes; a shorter soak (a try of the mode)
	// judges its last three quarters.
	warm := min(10*time.Minute, s.d/4)
	var w2mSent, m2wSent atomic.Int64
	// The session is down from the logout until the login is CONNECTED again; WeChat
	// keeps no messages for a web session that has ended, so none are written then.
	var sessionUp atomic.Bool
	sessionUp.Store(true)
	// gate: sends hold it shared, so that the session is only ended once no send is in
	// flight and what was sent has arrived.
	var gate sync.RWMutex
	var restarting atomic.Bool
	var w2mBodies, m2wBodies sync.Map
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	paceLoop := func(rate float64, fn func(i int)) {
		defer wg.Done()
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer tick.Stop()
		for i := 0; ; {
			select {
			case <-sctx.Done():
				return
			case <-tick.C: // pacing
			}
			gate.RLock()
			if sessionUp.Load() {
				fn(i)
				i++
			}
			gate.RUnlock()
		}
	}
	wg.Add(2)
	go paceLoop(s.w2mRate, func(i int) {
		body := fmt.Sprintf("soak-wx %s %d", run, i)
		if _, err := ctl.Incoming(sctx, obsWxid, wxsim.WorldMessage{From: chatWxid(i % s.chats), Type: 1, Content: body}); err != nil {
			if sctx.Err() == nil {
				fail(fmt.Errorf("wxsim incoming: %w", err))
			}
			return
		}
		w2mBodies.Store(body, true)
		w2mSent.Add(1)
	})
	go paceLoop(s.m2wRate, func(i int) {
		if restarting.Load() {
			// The homeserver queues what the bridge misses while down; this is only so
			// that a send does not fail on the observer's side.
			return
		}
		body := fmt.Sprintf("soak-mx %s %d", run, i)
		if _, err := obs.SendText(sctx, portals[i%len(portals)], body, ""); err != nil {
			if sctx.Err() == nil {
				fail(fmt.Errorf("matrix send: %w", err))
			}
			return
		}
		m2wBodies.Store(body, true)
		m2wSent.Add(1)
	})

	samples := []soakSample{}
	bridgeStart := start
	heapAtWarm := false
	sample := func(ctx context.Context, restarted bool) {
		pid := e.bridgePID()
		x := soakSample{at: time.Since(start), life: time.Since(bridgeStart), dbBytes: dbSize(e.runDir),
			sentW2M: w2mSent.Load(), sentM2W: m2wSent.Load(), restarted: restarted, sessionUp: sessionUp.Load()}
		if st, err := procStatus(pid); err == nil {
			x.rss, x.rssAnon, x.rssFile, x.rssShmem = st["VmRSS"], st["RssAnon"], st["RssFile"], st["RssShmem"]
		}
		if m := e.memStats(ctx); len(m) > 0 {
			x.goHeld, x.goHeapInuse = heldFromOS(m), m["HeapInuse"]
		}
		x.fds, x.dbConns = countFDs(pid, filepath.Join(e.runDir, "wxbridge.db"))
		x.goroutines, x.connLoops = e.residentGoroutines(ctx)
		// A goroutine count above the window's usual is kept for a look at what it is.
		if x.at >= warm && len(samples) > 0 && x.goroutines > samples[len(samples)-1].goroutines+4 {
			e.saveProfileAs(ctx, "goroutine?debug=1", fmt.Sprintf("goroutines-%03.0fmin", x.at.Minutes()))
		}
		// Heap profiles at each life's first warm sample and at its end (below): `go tool
		// pprof -base` between two of them shows what a life's heap gained.
		if x.life >= warm && !heapAtWarm {
			heapAtWarm = true
			e.saveProfileAs(ctx, "heap", fmt.Sprintf("heap-%03.0fmin", x.at.Minutes()))
		}
		samples = append(samples, x)
		fmt.Printf("bench: soak %s: RSS %s (Go runtime %s, its heap in use %s; anonymous %s, file %s, shared %s), %d goroutines (%d HTTP connection loops), %d fds, %d SQLite connections, database %s, sent W→M %d M→W %d\n",
			x.at.Round(time.Second), mib(x.rss), mib(x.goHeld), mib(x.goHeapInuse), mib(x.rssAnon), mib(x.rssFile), mib(x.rssShmem),
			x.goroutines, x.connLoops, x.fds, x.dbConns, mib(x.dbBytes), x.sentW2M, x.sentM2W)
	}
	sample(sctx, false)
	sampleTick := time.NewTicker(s.sampling)
	defer sampleTick.Stop()
	reloginTick := time.NewTicker(s.relogin)
	defer reloginTick.Stop()
	restartAt := time.After(s.d / 2)
	end := time.After(s.d)
	obsUser := []scaleUser{{mx: obs.ID(), wxid: obsWxid}}
	restarted := false
loop:
	for {
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-end:
			break loop
		case <-sampleTick.C:
			sample(sctx, restarted)
			restarted = false
		case <-restartAt:
			restarting.Store(true)
			e.saveProfileAs(ctx, "heap", fmt.Sprintf("heap-%03.0fmin", time.Since(start).Minutes()))
			heapAtWarm = false
			from := e.states.Mark()
			if err := e.stopBridge(ctx, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if _, err := e.startBridge(ctx); err != nil {
				t.Fatal(err)
			}
			bridgeStart = time.Now()
			if _, err := waitConnected(ctx, e, obsUser, from); err != nil {
				t.Fatalf("after the restart: %v", err)
			}
			restarting.Store(false)
			restarted = true
			fmt.Printf("bench: soak %s: bridge restarted\n", time.Since(start).Round(time.Second))
		case <-reloginTick.C:
			gate.Lock()
			sessionUp.Store(false)
			gate.Unlock()
			// What was sent arrives before the session ends: a web session that ended
			// never gets the messages waiting for it, on WeChat as in wxsim.
			if err := obs.WaitBodies(ctx, 2*time.Minute, keys(&w2mBodies)); err != nil {
				t.Fatalf("before the session ends: %v", err)
			}
			if lost, _, err := sentOnce(ctx, ctl, keys(&m2wBodies)); err != nil || lost > 0 {
				t.Fatalf("before the session ends: %d Matrix messages not on WeChat (%v)", lost, err)
			}
			if err := endSession(ctx, e, ctl, obsUser); err != nil {
				t.Fatalf("session end and push login: %v", err)
			}
			sessionUp.Store(true)
			fmt.Printf("bench: soak %s: WeChat session ended and confirmed again on the phone\n", time.Since(start).Round(time.Second))
		}
	}
	stop()
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	sample(ctx, false)
	e.saveProfileAs(ctx, "heap", fmt.Sprintf("heap-%03.0fmin", time.Since(start).Minutes()))

	// Nothing lost, nothing doubled.
	w2m, m2w := keys(&w2mBodies), keys(&m2wBodies)
	if err := obs.WaitBodies(ctx, 5*time.Minute, w2m); err != nil {
		fmt.Printf("bench: soak: %v\n", err)
	}
	lostW2M, dupW2M := 0, 0
	counts := map[string]int{}
	for _, r := range portals {
		for b, n := range obs.BodyCounts(r) {
			counts[b] += n
		}
	}
	for _, b := range w2m {
		switch n := counts[b]; {
		case n == 0:
			lostW2M++
		case n > 1:
			dupW2M++
		}
	}
	lostM2W, dupM2W, err := sentOnce(ctx, ctl, m2w)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeSoak(e.runDir, samples, warm); err != nil {
		fmt.Printf("bench: soak: %v\n", err)
	}
	steady := samples
	for len(steady) > 0 && steady[0].at < warm {
		steady = steady[1:]
	}
	rssSpread, grSpread, fdSpread := spread(steady, rssOf),
		spread(steady, goroutinesOf),
		spread(steady, fdsOf)
	last := samples[len(samples)-1]
	rep.add(row{measure: fmt.Sprintf("soak %s: RSS after the first %s, spread around the median", s.d, warm), bridge: pct(rssSpread),
		baseline: fmt.Sprintf("%s at the end", mib(last.rss)), ratio: "–", target: "within ±10%", verdict: verdict(len(steady) > 0 && rssSpread <= 0.10)})
	rssGrowth, grGrowth := growth(steady, rssOf),
		growth(steady, goroutinesOf)
	rep.add(row{measure: fmt.Sprintf("soak: growth across the window after the first %s (least-squares slope), RSS / goroutines", warm),
		bridge: fmt.Sprintf("%+.1f%% / %+.1f%%", 100*rssGrowth, 100*grGrowth), baseline: "–", ratio: "–"})
	anon := func(x soakSample) float64 { return float64(x.rssAnon) }
	rep.add(row{measure: fmt.Sprintf("soak: anonymous RSS (Go's heap and SQLite's; the rest is the binary's pages) after the first %s: spread / growth", warm),
		bridge:   fmt.Sprintf("%s / %+.1f%%", pct(spread(steady, anon)), 100*growth(steady, anon)),
		baseline: fmt.Sprintf("%s of %s at the end", mib(last.rssAnon), mib(last.rss)), ratio: "–"})
	rep.add(row{measure: fmt.Sprintf("soak: resident goroutines (fewest of 5 reads) after the first %s, spread around the median", warm), bridge: pct(grSpread),
		baseline: fmt.Sprintf("%d at the end", last.goroutines), ratio: "–", target: "within ±10%", verdict: verdict(len(steady) > 0 && grSpread <= 0.10)})
	rep.add(row{measure: fmt.Sprintf("soak: open file descriptors after the first %s, spread", warm), bridge: pct(fdSpread),
		baseline: fmt.Sprintf("%d at the end", last.fds), ratio: "–", target: "flat", verdict: verdict(len(steady) > 0 && fdSpread <= 0.05)})
	// The same targets per process life: each life judged from warm after its start, as
	// the restart's new process fills its caches and connections again.
	lives := lifeWindows(samples, warm)
	for _, m := range []struct {
		name, target string
		limit        float64
		f            func(soakSample) float64
	}{
		{"RSS", "within ±10%", 0.10, rssOf},
		{"resident goroutines", "within ±10%", 0.10, goroutinesOf},
		{"resident goroutines other than pooled HTTP connections' loops", "within ±10%", 0.10, ownGoroutinesOf},
		{"open file descriptors", "flat", 0.05, fdsOf},
	} {
		var parts []string
		worst := 0.0
		for _, l := range lives {
			sp := spread(l, m.f)
			worst = max(worst, sp)
			parts = append(parts, pct(sp))
		}
		rep.add(row{measure: fmt.Sprintf("soak: %s per process life, from %s after each start, spread around the life's median", m.name, warm),
			bridge: strings.Join(parts, ", "), baseline: "–", ratio: "–", target: m.target, verdict: verdict(len(lives) > 0 && worst <= m.limit)})
	}
	rep.add(row{measure: fmt.Sprintf("soak: pooled HTTP client connections per process life, from %s after each start (the goroutines above less these loops)", warm),
		bridge: lifeRanges(lives, connsOf), baseline: "–", ratio: "–"})
	rep.add(row{measure: fmt.Sprintf("soak: SQLite connections per process life, from %s after each start (each with its page cache)", warm),
		bridge: lifeRanges(lives, dbConnsOf), baseline: "–", ratio: "–"})
	rep.add(row{measure: "soak: database size at the end", bridge: mib(last.dbBytes), baseline: fmt.Sprintf("%s at the start", mib(samples[0].dbBytes)), ratio: "–"})
	rep.add(row{measure: fmt.Sprintf("soak: W→M messages lost / doubled (of %d)", len(w2m)), bridge: fmt.Sprintf("%d / %d", lostW2M, dupW2M),
		baseline: "–", ratio: "–", target: "0 / 0", verdict: verdict(lostW2M == 0 && dupW2M == 0)})
	rep.add(row{measure: fmt.Sprintf("soak: M→W messages lost / doubled (of %d)", len(m2w)), bridge: fmt.Sprintf("%d / %d", lostM2W, dupM2W),
		baseline: "–", ratio: "–", target: "0 / 0", verdict: verdict(lostM2W == 0 && dupM2W == 0)})
}

func keys(m *sync.Map) []string {
	var out []string
	m.Range(func(k, _ any) bool { out = append(out, k.(string)); return true })
	return out
}

// endSession ends the observer's WeChat session as the server would (retcode 1101),
// confirms the push login the bridge asks the phone for, and waits until it is connected.
func endSession(ctx context.Context, e *env, ctl *wxsim.Control, obsUser []scaleUser) error {
	from := e.states.Mark()
	if err := ctl.Logout(ctx, obsWxid, 1101); err != nil {
		return err
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Minute)
	for {
		if _, err := ctl.PushLoginConfirm(ctx, obsWxid); err == nil {
			break
		}
		select {
		case <-deadline:
			return fmt.Errorf("the bridge asked the phone for no push login within 2 minutes")
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C: // polling wxsim, an external process
		}
	}
	_, err := waitConnected(ctx, e, obsUser, from)
	return err
}

// sentOnce checks wxsim's /sent: every body once (a ClientMsgId sent again is one entry
// with more attempts, which is not a double on the phone).
func sentOnce(ctx context.Context, ctl *wxsim.Control, bodies []string) (lost, doubled int, err error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		sent, err := ctl.Sent(ctx, obsWxid)
		if err != nil {
			return 0, 0, err
		}
		n := map[string]int{}
		for _, s := range sent {
			n[s.Content]++
		}
		lost, doubled = 0, 0
		for _, b := range bodies {
			switch {
			case n[b] == 0:
				lost++
			case n[b] > 1:
				doubled++
			}
		}
		if lost == 0 || time.Now().After(deadline) {
			return lost, doubled, nil
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(time.Second): // polling wxsim
		}
	}
}

// spread is the largest distance of a sample from the median, relative to the median.
func spread(xs []soakSample, f func(soakSample) float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if med == 0 {
		return 0
	}
	return max(med-v[0], v[len(v)-1]-med) / med
}

// lifeWindows splits the samples by bridge process (a restart begins a new one) and keeps
// of each the samples taken at least warm after it began.
func lifeWindows(samples []soakSample, warm time.Duration) [][]soakSample {
	var lives [][]soakSample
	var cur []soakSample
	for i, x := range samples {
		if i > 0 && x.life < samples[i-1].life && len(cur) > 0 {
			lives = append(lives, cur)
			cur = nil
		}
		if x.at >= warm && x.life >= warm {
			cur = append(cur, x)
		}
	}
	if len(cur) > 0 {
		lives = append(lives, cur)
	}
	return lives
}

// The series the soak judges and plots.
func rssOf(x soakSample) float64        { return float64(x.rss) }
func goroutinesOf(x soakSample) float64 { return float64(x.goroutines) }

func ownGoroutinesOf(x soakSample) float64 { return float64(x.goroutines - x.connLoops) }

func connsOf(x soakSample) float64   { return float64(x.connLoops) / 2 }
func dbConnsOf(x soakSample) float64 { return float64(x.dbConns) }

// lifeRanges is the lowest and highest of f in each process life, "lo–hi, lo–hi".
func lifeRanges(lives [][]soakSample, f func(soakSample) float64) string {
	var parts []string
	for _, l := range lives {
		if len(l) == 0 {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range l {
			lo, hi = min(lo, f(x)), max(hi, f(x))
		}
		parts = append(parts, fmt.Sprintf("%.0f–%.0f", lo, hi))
	}
	return strings.Join(parts, ", ")
}
func fdsOf(x soakSample) float64 { return float64(x.fds) }

func pct(f float64) string { return fmt.Sprintf("±%.1f%%", 100*f) }

// countFDs counts the process's open descriptors, and of them those open on the file path.
func countFDs(pid int, path string) (all, onPath int) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && target == path {
			onPath++
		}
	}
	return len(ents), onPath
}

// dbSize is the bridge's SQLite database with its WAL.
func dbSize(runDir string) int64 {
	var n int64
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if st, err := os.Stat(filepath.Join(runDir, "wxbridge.db"+suffix)); err == nil {
			n += st.Size()
		}
	}
	return n
}

// goroutines reads the count from the bridge's pprof endpoint (BENCH_SOAK turns the
// debug endpoints on); 0 when it cannot.
// residentGoroutines is the fewest goroutines of five reads 200 ms apart. Under steady
// traffic the count at one instant includes the goroutines that come and go with each
// message (a chat's queue, bridgev2's handling, connections to the homeserver), tens of
// them; a leak stays in every read.
// The second result is how many of that read's goroutines are pooled HTTP connections'
// read and write loops.
func (e *env) residentGoroutines(ctx context.Context) (n, connLoops int) {
	for i := range 5 {
		if i > 0 {
			select {
			case <-time.After(200 * time.Millisecond): // spacing of the reads, not a wait for an event
			case <-ctx.Done():
				return n, connLoops
			}
		}
		if g, c := e.goroutines(ctx); g > 0 && (n == 0 || g < n) {
			n, connLoops = g, c
		}
	}
	return n, connLoops
}

// growth is the least-squares slope of f over the samples times their time span, as a
// share of the mean: how much f grew across the window, with the noise averaged out.
func growth(xs []soakSample, f func(soakSample) float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var st, sv float64
	for _, x := range xs {
		st += x.at.Minutes()
		sv += f(x)
	}
	n := float64(len(xs))
	mt, mv := st/n, sv/n
	var num, den float64
	for _, x := range xs {
		num += (x.at.Minutes() - mt) * (f(x) - mv)
		den += (x.at.Minutes() - mt) * (x.at.Minutes() - mt)
	}
	if den == 0 || mv == 0 {
		return 0
	}
	return num / den * (xs[len(xs)-1].at.Minutes() - xs[0].at.Minutes()) / mv
}

// heldFromOS is the memory a Go runtime holds from the OS, from its MemStats (memStats):
// Sys − HeapReleased. It counts address space whether or not it is resident, so RSS less
// it understates what is allocated outside Go; the soak reads that split from the kernel.
func heldFromOS(m map[string]int64) int64 { return m["Sys"] - m["HeapReleased"] }

// memStats reads the bridge's runtime.MemStats from the end of its heap profile
// (BENCH_PPROF=1), by the names it prints there ("HeapInuse", "Stack" for StackInuse,
// "MSpan" for MSpanInuse, …); empty when it cannot be read.
func (e *env) memStats(ctx context.Context) map[string]int64 {
	m := map[string]int64{}
	b, err := e.fetchPprof(ctx, "heap?debug=1")
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(strings.TrimPrefix(line, "# "), " = ")
		if !ok || !strings.HasPrefix(line, "# ") {
			continue
		}
		// "Stack = inuse / sys", "MSpan = inuse / sys": the first is the one in use.
		v, _, _ = strings.Cut(v, " / ")
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			m[name] = n
		}
	}
	return m
}

func (e *env) goroutines(ctx context.Context) (total, connLoops int) {
	b, err := e.fetchPprof(ctx, "goroutine?debug=1")
	if err != nil {
		return 0, 0
	}
	return parseGoroutineProfile(string(b))
}

// parseGoroutineProfile reads a "goroutine?debug=1" profile: the total, and how many
// goroutines run net/http's persistConn read or write loop. Each record is a line
// "N @ addresses" followed by its frames, one "#\taddr\tfunction+off\tfile:line" each.
func parseGoroutineProfile(p string) (total, connLoops int) {
	first, rest, _ := strings.Cut(p, "\n")
	total, _ = strconv.Atoi(strings.TrimPrefix(first, "goroutine profile: total "))
	count, counted := 0, false
	for line := range strings.SplitSeq(rest, "\n") {
		if c, _, ok := strings.Cut(line, " @ "); ok {
			count, _ = strconv.Atoi(c)
			counted = false
			continue
		}
		if !counted && strings.HasPrefix(line, "#") && (strings.Contains(line, "net/http.(*persistConn).readLoop+") ||
			strings.Contains(line, "net/http.(*persistConn).writeLoop+")) {
			connLoops += count
			counted = true
		}
	}
	return total, connLoops
}

// writeSoak writes RUN/soak.csv and RUN/soak.png (RSS, the Go runtime's part of it,
// goroutines, file descriptors and database size over time, each relative to its median
// after warm, the plot capped at 2).
func writeSoak(runDir string, samples []soakSample, warm time.Duration) error {
	f, err := os.Create(filepath.Join(runDir, "soak.csv"))
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"minutes", "rss_mib", "go_held_mib", "goroutines", "fds", "db_mib", "sent_w2m", "sent_m2w", "restarted", "session_up", "http_conn_loops",
		"go_heap_inuse_mib", "rss_anon_mib", "rss_file_mib", "rss_shmem_mib", "sqlite_conns"})
	for _, x := range samples {
		_ = w.Write([]string{fmt.Sprintf("%.2f", x.at.Minutes()), fmt.Sprintf("%.1f", float64(x.rss)/(1<<20)),
			fmt.Sprintf("%.1f", float64(x.goHeld)/(1<<20)), strconv.Itoa(x.goroutines),
			strconv.Itoa(x.fds), fmt.Sprintf("%.2f", float64(x.dbBytes)/(1<<20)), strconv.FormatInt(x.sentW2M, 10),
			strconv.FormatInt(x.sentM2W, 10), strconv.FormatBool(x.restarted), strconv.FormatBool(x.sessionUp), strconv.Itoa(x.connLoops),
			fmt.Sprintf("%.1f", float64(x.goHeapInuse)/(1<<20)), fmt.Sprintf("%.1f", float64(x.rssAnon)/(1<<20)),
			fmt.Sprintf("%.1f", float64(x.rssFile)/(1<<20)), fmt.Sprintf("%.1f", float64(x.rssShmem)/(1<<20)), strconv.Itoa(x.dbConns)})
	}
	w.Flush()
	if err := f.Close(); err != nil {
		return err
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("wxbridge soak: each series over its median after the first %s", warm)
	p.X.Label.Text = "minutes"
	p.Y.Label.Text = "× median"
	series := []struct {
		name string
		f    func(soakSample) float64
	}{
		{"RSS", rssOf},
		{"Go runtime's memory", func(x soakSample) float64 { return float64(x.goHeld) }},
		{"goroutines", goroutinesOf},
		{"open fds", fdsOf},
		{"database", func(x soakSample) float64 { return float64(x.dbBytes) }},
		{"SQLite connections", dbConnsOf},
	}
	var lines []any
	for _, s := range series {
		var ref []float64
		for _, x := range samples {
			if x.at >= warm {
				ref = append(ref, s.f(x))
			}
		}
		if len(ref) == 0 {
			for _, x := range samples {
				ref = append(ref, s.f(x))
			}
		}
		slices.Sort(ref)
		med := ref[len(ref)/2]
		if med == 0 {
			med = 1
		}
		pts := make(plotter.XYs, len(samples))
		for i, x := range samples {
			pts[i].X, pts[i].Y = x.at.Minutes(), s.f(x)/med
		}
		lines = append(lines, s.name, pts)
	}
	if err := plotutil.AddLinePoints(p, lines...); err != nil {
		return err
	}
	// The setup (portals made, every chat's first message) and the minute after a restart
	// run at many times the median; capped, the rest of the hour stays readable.
	p.Y.Min, p.Y.Max = 0, min(p.Y.Max, 2)
	return p.Save(10*vg.Inch, 5*vg.Inch, filepath.Join(runDir, "soak.png"))
}
