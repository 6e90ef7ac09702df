//go:build bench

package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix/bridgev2/status"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

type scaleUser struct {
	mx   id.UserID
	wxid string
}

// scale logs in p.logins Matrix users, each to its own WeChat account, lets them idle
// long-polling, and restarts the bridge (SIGKILL + start) to time the reconnect.
func scale(ctx context.Context, t *testing.T, e *env, ctl *wxsim.Control, obs *harness.MatrixUser, p params, rep *report) {
	k := p.logins
	// A fresh process, so that memory counts logins and not the earlier phases.
	from := e.states.Mark()
	if err := e.stopBridge(ctx, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := e.startBridge(ctx); err != nil {
		t.Fatal(err)
	}
	obsOnly := []scaleUser{{mx: obs.ID(), wxid: obsWxid}}
	if _, err := waitConnected(ctx, e, obsOnly, from); err != nil {
		t.Fatalf("observer after restart: %v", err)
	}
	rss0, _ := rssBytes(e.bridgePID())
	mem0 := e.memStats(ctx)
	// What the process costs with no idle logins (the observer's login only): its own
	// background, which the per-login share below leaves out.
	settleIdle(ctx, t, e, "with the observer's login only")
	base, baseWall := cpuOver(ctx, t, p.idle, e.bridgePID()) // as long as the idle window
	fmt.Printf("bench: bridge with the observer's login only: %.3f%% of a core over %s\n", 100*float64(base[0])/float64(baseWall), baseWall.Round(time.Millisecond))

	users := make([]scaleUser, k)
	t0 := time.Now()
	if err := parallel(ctx, 8, k, func(i int) error {
		users[i].wxid = fmt.Sprintf("wxid_scale%04d", i)
		if _, err := ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: users[i].wxid, Nickname: fmt.Sprintf("Scale %d", i), Uin: int64(100000 + i), Host: "wx2.qq.com"}); err != nil {
			return err
		}
		nick := "Friend"
		if _, err := ctl.AddContact(ctx, users[i].wxid, wxsim.ContactSpec{Wxid: "wxid_friend", Nickname: &nick}); err != nil {
			return err
		}
		u, err := register(ctx, e.hsURL, localpart("scale", i))
		if err != nil {
			return err
		}
		users[i].mx = u.ID()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("bench: %d WeChat accounts and Matrix users in %s\n", k, time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	from = e.states.Mark()
	var done int64
	var mu sync.Mutex
	if err := parallel(ctx, p.loginWorkers, k, func(i int) error {
		if _, err := e.login(ctx, ctl, users[i].mx, users[i].wxid); err != nil {
			return fmt.Errorf("login %d: %w", i, err)
		}
		mu.Lock()
		done++
		if done%100 == 0 {
			fmt.Printf("bench: %d/%d logged in (%s)\n", done, k, time.Since(t0).Round(time.Second))
		}
		mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	loginTime := time.Since(t0)
	all := append(users, obsOnly...)
	// The observer's login stays connected throughout and pushes nothing new.
	if _, err := waitConnected(ctx, e, users, from); err != nil {
		t.Fatalf("after the logins: %v", err)
	}
	fmt.Printf("bench: %d logins in %s (%.1f/s), all connected after %s\n", k, loginTime.Round(time.Millisecond),
		float64(k)/loginTime.Seconds(), time.Since(t0).Round(time.Millisecond))

	// Idle: nothing happens; every login holds a synccheck long poll (25 s). First let
	// the work the logins started finish.
	settleIdle(ctx, t, e, "after the logins")
	runtime.GC()
	if err := ctl.ResetStats(ctx); err != nil {
		t.Fatal(err)
	}
	memStart := e.memStats(ctx)
	idle, wall := cpuOver(ctx, t, p.idle, e.bridgePID(), e.hsPID)
	var polls int64
	if st, err := ctl.Stats(ctx); err == nil {
		polls = st.Requests["synccheck"]
		fmt.Printf("bench: wxsim requests during the idle window (%s): %v\n", wall.Round(time.Millisecond), st.Requests)
	}
	rssIdle, _ := rssBytes(e.bridgePID())
	memEnd := e.memStats(ctx)
	printMemPerLogin(mem0, memEnd, k)
	if len(memStart) > 0 && len(memEnd) > 0 {
		gcs := memEnd["NumGC"] - memStart["NumGC"]
		fmt.Printf("bench: during the idle window the bridge's Go runtime ran %d GCs (%.1f per 1,000 polls), allocated %s and gave %s back to the OS\n",
			gcs, 1000*float64(gcs)/float64(max(polls, 1)), mib(memEnd["TotalAlloc"]-memStart["TotalAlloc"]), mib(memEnd["HeapReleased"]-memStart["HeapReleased"]))
	}
	e.saveProfile(ctx, "heap")
	e.saveProfile(ctx, "goroutine")
	// BENCH_PPROF=1: where the idle CPU goes, taken after the window so as not to add to it.
	e.saveProfileAs(ctx, "profile?seconds=30", "cpu-idle")
	idlePct := 100 * float64(idle[0]) / float64(wall)
	perLogin := (rssIdle - rss0) / int64(k)
	// The target is 300 MB for 1,000 logins; for another K, scale the per-login share.
	projected := rss0 + perLogin*1000
	rep.add(row{measure: fmt.Sprintf("4. RSS with %d idle logins (+1 observer)", k), bridge: mib(rssIdle),
		baseline: fmt.Sprintf("%s with the observer's login only", mib(rss0)), ratio: "–",
		target: "≤ 300 MB at 1,000", verdict: verdict(projected <= 300e6) + projectedNote(k, projected)})
	rep.add(row{measure: "4. RSS per login", bridge: fmt.Sprintf("%.0f KiB", float64(perLogin)/1024), baseline: "–", ratio: "–",
		target: "≤ 80 KiB", verdict: verdict(perLogin <= 80<<10)})
	cpuTarget, cpuVerdict, holdNote := "≤ 1.0% at 1,000", verdict(idlePct*1000/float64(k) <= 1.0)+projectedCPUNote(k, idlePct), ""
	if p.hold != synccheckHold { // polls the real server would not answer so often: no verdict
		cpuTarget, cpuVerdict, holdNote = "≤ 1.0% at 1,000 with the 25s hold", "–", fmt.Sprintf(", synccheck hold %s", p.hold)
	}
	rep.add(row{measure: fmt.Sprintf("4. idle CPU over %s, %d logins%s", p.idle, k, holdNote), bridge: fmt.Sprintf("%.2f%% of a core (%s per poll)", idlePct, perPoll(idle[0], polls)),
		baseline: fmt.Sprintf("homeserver %.2f%%", 100*float64(idle[1])/float64(wall)), ratio: "–",
		target: cpuTarget, verdict: cpuVerdict})
	// The logins' own share: the idle window less the no-login window's rate over it.
	baseShare := time.Duration(float64(base[0]) * float64(wall) / float64(baseWall))
	loginsCPU := max(idle[0]-baseShare, 0)
	rep.add(row{measure: fmt.Sprintf("4. idle CPU of the %d logins alone (the idle row less the bridge with no logins)", k),
		bridge:   fmt.Sprintf("%.2f%% of a core (%s per poll)", 100*float64(loginsCPU)/float64(wall), perPoll(loginsCPU, polls)),
		baseline: fmt.Sprintf("no logins %.3f%%", 100*float64(base[0])/float64(baseWall)), ratio: "–"})

	// The floors: the same number of long polls held by the protocol library alone, and by
	// a plain net/http client, each in a process of its own, in the same run. The bridge is
	// stopped (SIGSTOP) meanwhile: wxsim's count of polls is then the floor's alone, and the
	// floor's CPU does not share the machine with the bridge's. The restart below kills it.
	stopped := e.bridgePID()
	if err := syscall.Kill(stopped, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { // a floor that fails must not leave the bridge stopped for the cleanup
		if stopped != 0 {
			_ = syscall.Kill(stopped, syscall.SIGCONT)
		}
	}()
	for _, mode := range []string{"protoclient", "nethttp"} {
		f, err := e.measureIdleFloor(ctx, ctl, mode, k, 10*time.Second, p.idle)
		if err != nil {
			t.Fatalf("idle floor %s: %v", mode, err)
		}
		pct := 100 * float64(f.cpu) / float64(f.wall)
		per := (f.rss - f.rssBase) / int64(k)
		what := map[string]string{"protoclient": "protoclient's RunSync alone", "nethttp": "a plain net/http client"}[mode]
		fmt.Printf("bench: idle floor %s: %.2f%% of a core, %d KiB per poll, %d polls answered in the window\n", mode, pct, per>>10, f.polls)
		cpuRatio := "–" // a window too short for the clock's ticks (quick mode) measures 0
		if f.cpu > 0 && f.polls > 0 && polls > 0 {
			// Per poll answered: the window is a whole number of holds, but a poll more or
			// less must not move the ratio.
			fp := float64(f.cpu) / float64(f.polls)
			cpuRatio = fmt.Sprintf("%.2f (logins alone %.2f)", float64(idle[0])/float64(polls)/fp, float64(loginsCPU)/float64(polls)/fp)
		}
		rep.add(row{measure: fmt.Sprintf("4. idle floor: %d long polls by %s", k, what),
			bridge:   fmt.Sprintf("%.2f%% of a core (%s per poll), %.0f KiB each", pct, perPoll(f.cpu, f.polls), float64(per)/1024),
			baseline: "–", ratio: fmt.Sprintf("bridge/floor CPU %s, RSS %.2f", cpuRatio, float64(perLogin)/float64(per))})
	}

	if err := syscall.Kill(stopped, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = 0

	// Restart: a crash (SIGKILL) and a new start; time to every login long-polling
	// (wxsim counts a synccheck per login) and to every login's bridge state CONNECTED.
	if err := ctl.ResetStats(ctx); err != nil {
		t.Fatal(err)
	}
	from = e.states.Mark()
	if err := e.stopBridge(ctx, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := ctl.ResetStats(ctx); err != nil {
		t.Fatal(err)
	}
	started, err := e.startBridge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ready := time.Since(started)
	var polling time.Duration
	pollErr := make(chan error, 1)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			st, err := ctl.Stats(ctx)
			if err == nil && st.Requests["synccheck"] >= int64(len(all)) {
				polling = time.Since(started)
				pollErr <- nil
				return
			}
			select {
			case <-ctx.Done():
				pollErr <- ctx.Err()
				return
			case <-tick.C:
			}
		}
	}()
	connectedAt, err := waitConnected(ctx, e, all, from)
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	connected := connectedAt.Sub(started)
	if err := <-pollErr; err != nil {
		t.Fatal(err)
	}
	rssRestart, _ := rssBytes(e.bridgePID())
	rep.add(row{measure: fmt.Sprintf("4. restart (SIGKILL + start) → all %d logins CONNECTED (bridge state pushed to the status endpoint)", len(all)),
		bridge: fmt.Sprintf("%.1f s", connected.Seconds()), baseline: fmt.Sprintf("ready endpoint after %.1f s", ready.Seconds()), ratio: "–",
		target: "≤ 20 s", verdict: verdict(connected <= 20*time.Second)})
	rep.add(row{measure: fmt.Sprintf("4. restart → all %d logins long-polling (a synccheck each at wxsim)", len(all)),
		bridge: fmt.Sprintf("%.1f s", polling.Seconds()), baseline: "–", ratio: "–"})
	rep.add(row{measure: "4. RSS after the restart, all connected", bridge: mib(rssRestart), baseline: "–", ratio: "–"})
}

func projectedNote(k int, projected int64) string {
	if k == 1000 {
		return ""
	}
	return fmt.Sprintf(" (projected to 1,000: %s)", mib(projected))
}

// perPoll is the CPU a process used per synccheck answered in the window.
func perPoll(cpu time.Duration, polls int64) string {
	if polls == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f µs", float64(cpu.Microseconds())/float64(polls))
}

func projectedCPUNote(k int, pct float64) string {
	if k == 1000 {
		return ""
	}
	return fmt.Sprintf(" (projected to 1,000: %.1f%%)", pct*1000/float64(k))
}

// settleIdle waits until the bridge and the homeserver each use under 10 % of a core
// over a 5 s window (what logins or a start set going has finished), for at most 12
// minutes, and says so when they did not: the window after it is then not idle. Dendrite creates a room in about a second under
// the scale phase's load and the bridge asks for two at a time.
func settleIdle(ctx context.Context, t *testing.T, e *env, what string) {
	t0 := time.Now()
	for time.Since(t0) < 12*time.Minute {
		used, wall := cpuOver(ctx, t, 5*time.Second, e.bridgePID(), e.hsPID)
		if float64(used[0]) < 0.1*float64(wall) && float64(used[1]) < 0.1*float64(wall) {
			fmt.Printf("bench: settled %s after %s\n", what, time.Since(t0).Round(time.Second))
			return
		}
	}
	fmt.Printf("bench: NOT settled %s after %s; the window after it is not idle\n", what, time.Since(t0).Round(time.Second))
}

// cpuOver measures the CPU each process uses over a window of d (the wall time it took).
func cpuOver(ctx context.Context, t *testing.T, d time.Duration, pids ...int) ([]time.Duration, time.Duration) {
	m := startCPU(pids...)
	select {
	case <-time.After(d): // the measurement window
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	return m.stop()
}

// waitConnected waits until the bridge has pushed CONNECTED as the latest state of each
// user's login among the states after the first from, and returns when the last of them
// arrived. The states come to the benchmark's status endpoint as the bridge sends them, so
// nothing asks the bridge while it connects.
func waitConnected(ctx context.Context, e *env, users []scaleUser, from int) (time.Time, error) {
	// waiting holds the users whose latest state is not CONNECTED yet, with that state.
	waiting := map[id.UserID]status.BridgeStateEvent{}
	for _, u := range users {
		waiting[u.mx] = "none"
	}
	connectedAt := map[id.UserID]time.Time{}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	seen := 0
	err := e.states.Wait(wctx, from, func(states []harness.PushedState) bool {
		for _, st := range states[seen:] {
			_, ours := waiting[st.UserID]
			if _, done := connectedAt[st.UserID]; !ours && !done {
				continue
			}
			if st.StateEvent == status.StateConnected {
				delete(waiting, st.UserID)
				connectedAt[st.UserID] = st.At
			} else {
				waiting[st.UserID] = st.StateEvent
				delete(connectedAt, st.UserID)
			}
		}
		seen = len(states)
		return len(waiting) == 0
	})
	if err != nil {
		counts := map[status.BridgeStateEvent]int{}
		for _, st := range waiting {
			counts[st]++
		}
		return time.Time{}, fmt.Errorf("%d of %d logins not CONNECTED (their latest states pushed: %v): %w", len(waiting), len(users), counts, err)
	}
	var last time.Time
	for _, at := range connectedAt {
		if at.After(last) {
			last = at
		}
	}
	return last, nil
}

// printMemPerLogin says where the idle logins' RSS goes in the Go runtime: the growth of
// each MemStats figure from the observer-only start to the idle window, per login
// (BENCH_PPROF=1; nothing without the debug endpoints).
func printMemPerLogin(before, after map[string]int64, k int) {
	if len(before) == 0 || len(after) == 0 {
		return
	}
	per := func(f func(m map[string]int64) int64) string {
		return fmt.Sprintf("%.1f KiB", float64(f(after)-f(before))/float64(k)/1024)
	}
	field := func(name string) func(map[string]int64) int64 {
		return func(m map[string]int64) int64 { return m[name] }
	}
	fmt.Printf("bench: Go runtime per idle login: live heap %s, heap in use %s, heap idle not returned %s, "+
		"stacks %s, spans and GC metadata %s, held from the OS (Sys − HeapReleased) %s; GC goal %s\n",
		per(field("HeapAlloc")), per(field("HeapInuse")),
		per(func(m map[string]int64) int64 { return m["HeapIdle"] - m["HeapReleased"] }),
		per(field("Stack")),
		per(func(m map[string]int64) int64 { return m["MSpan"] + m["GCSys"] }),
		per(heldFromOS),
		per(field("NextGC")))
}
