//go:build bench

package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"wxbridge/test/harness"
)

// httpClient is shared by every Matrix client and the control APIs: enough idle
// connections for 100 concurrent senders, so the baseline does not pay for new TCP
// connections.
var httpClient = &http.Client{
	Timeout: 3 * time.Minute,
	Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	},
}

// env is what test/bench/run hands over through BENCH_* variables.
type env struct {
	hsURL, server, wxsimURL, runDir string
	hsPID                           int

	// bridge.ReadyURL comes from the config (prepareConfig); the PID file is the one
	// test/bench/run's cleanup reads.
	bridge     harness.Bridge
	provURL    string
	pprofURL   string // set with BENCH_PPROF=1
	provSecret string

	proc *harness.Process // nil while the bridge is stopped

	// states receives the bridge states the bridge pushes (homeserver.status_endpoint):
	// the scale phase waits on them rather than asking the bridge for each login.
	states    *harness.BridgeStates
	statesURL string
}

// statePath is where the bridge POSTs its states.
const statePath = "/bridgestate"

func loadEnv(t *testing.T) *env {
	t.Helper()
	h := harness.Env{TB: t, Prefix: "BENCH", Runner: "test/bench/run"}
	e := &env{
		hsURL:    h.Get("HS_URL"),
		server:   h.Get("SERVER_NAME"),
		wxsimURL: h.Get("WXSIM_URL"),
		runDir:   h.Get("RUN_DIR"),
		bridge:   h.Bridge(),
	}
	e.bridge.PIDFile = e.runDir + "/bridge.pid"
	var err error
	if e.hsPID, err = strconv.Atoi(h.Get("HS_PID")); err != nil {
		t.Fatalf("BENCH_HS_PID: %v", err)
	}
	e.states = harness.NewBridgeStates(statePath)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e.states, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	e.statesURL = "http://" + ln.Addr().String() + statePath
	return e
}

// prepareConfig sets what the benchmark needs on top of e2ectl's config: the log level
// (BENCH_LOG_LEVEL, default info: the benchmark measures the bridge, not its debug log)
// and reads the appservice port and provisioning secret back.
func (e *env) prepareConfig(logLevel string) error {
	var cfg struct {
		Logging struct {
			Writers []any `yaml:"writers"`
		} `yaml:"logging"`
		AppService struct {
			Port int `yaml:"port"`
		} `yaml:"appservice"`
		Provisioning struct {
			SharedSecret string `yaml:"shared_secret"`
		} `yaml:"provisioning"`
	}
	if err := harness.ReadConfig(e.bridge.Config, &cfg); err != nil {
		return err
	}
	if cfg.AppService.Port == 0 || cfg.Provisioning.SharedSecret == "" {
		return errors.New("config has no appservice.port or provisioning.shared_secret")
	}
	sets := []harness.Setting{{Path: "logging.min_level", Value: logLevel},
		{Path: "homeserver.status_endpoint", Value: e.statesURL}}
	for i := range cfg.Logging.Writers {
		sets = append(sets, harness.Setting{Path: "logging.writers." + strconv.Itoa(i) + ".min_level", Value: logLevel})
	}
	// Each login's recent chats get rooms at login, two at a time across the bridge (a
	// thousand createRoom calls at once would swamp the homeserver). Dendrite needs about
	// three seconds a room under this load, so 1,000 logins keep it busy for most of an
	// hour, and the "idle" window would measure room creation (the first full run: not
	// settled after 12 min, bridge 6% of a core, Dendrite 139%). The benchmark measures
	// idle logins: no rooms for recent chats (BENCH_RECENT_CHATS=1 keeps them).
	if os.Getenv("BENCH_RECENT_CHATS") != "1" {
		sets = append(sets, harness.Setting{Path: "network.recent_chat_limit", Value: 0})
	}
	port := strconv.Itoa(cfg.AppService.Port)
	if os.Getenv("BENCH_SOAK") != "" {
		// A session ended every 15 minutes and confirmed on the phone each time: no
		// refusal window, no limit on push logins.
		sets = append(sets, harness.Setting{Path: "network.early_logout_window", Value: "0s"},
			harness.Setting{Path: "network.auto_relogin_interval", Value: "0s"})
	}
	if os.Getenv("BENCH_PPROF") == "1" || os.Getenv("BENCH_SOAK") != "" {
		// (The soak reads the goroutine count from the same endpoints.)
		// bridgev2's /debug/pprof on the appservice port, behind the provisioning secret.
		sets = append(sets, harness.Setting{Path: "provisioning.debug_endpoints", Value: true})
		e.pprofURL = "http://127.0.0.1:" + port + "/debug/pprof"
	}
	e.bridge.ReadyURL = "http://127.0.0.1:" + port + "/_matrix/mau/ready"
	e.provURL = "http://127.0.0.1:" + port + "/_matrix/provision"
	e.provSecret = cfg.Provisioning.SharedSecret
	return harness.EditConfig(e.bridge.Config, sets...)
}

// startBridge starts the bridge as test/e2e/run does (own session, PID file for the run
// script's cleanup) and returns when its appservice answers /_matrix/mau/ready. The bridge
// is the benchmark's own child from its first start on, so it waits on the process's exit
// rather than watching /proc as the other suites do.
func (e *env) startBridge(ctx context.Context) (started time.Time, err error) {
	p, err := e.bridge.Start("")
	if p == nil {
		return time.Time{}, err
	}
	e.proc = p
	if err != nil {
		return p.Started, err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.bridge.ReadyURL, nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p.Started, nil
			}
		}
		select {
		case <-p.Exited:
			return p.Started, fmt.Errorf("the bridge exited during startup (see %s)", e.bridge.Stdout)
		case <-ctx.Done():
			return p.Started, fmt.Errorf("the bridge did not become ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// stopBridge ends the bridge with sig (SIGTERM: a clean stop; SIGKILL: a crash) and
// waits until the process is gone.
func (e *env) stopBridge(ctx context.Context, sig syscall.Signal) error {
	if e.proc == nil {
		return nil
	}
	_ = e.proc.Cmd.Process.Signal(sig)
	select {
	case <-e.proc.Exited:
	case <-ctx.Done():
		_ = e.proc.Cmd.Process.Kill()
		<-e.proc.Exited
	}
	e.proc = nil
	return nil
}

func (e *env) bridgePID() int {
	if e.proc == nil {
		return 0
	}
	return e.proc.PID()
}

// clkTck is the unit of utime/stime in /proc/PID/stat.
var clkTck = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}()

// cpuTime is the user+system CPU time a process has used so far (/proc/PID/stat fields
// utime and stime).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat line")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat line")
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad utime/stime")
	}
	return time.Duration((ut + st) / clkTck * float64(time.Second)), nil
}

// rssBytes is VmRSS from /proc/PID/status.
func rssBytes(pid int) (int64, error) {
	m, err := procStatus(pid)
	if err != nil {
		return 0, err
	}
	rss, ok := m["VmRSS"]
	if !ok {
		return 0, errors.New("no VmRSS")
	}
	return rss, nil
}

// procStatus reads the sizes in /proc/PID/status ("VmRSS", "RssAnon", "RssFile", …), in
// bytes.
func procStatus(pid int) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		f := strings.Fields(rest)
		if !ok || len(f) != 2 || f[1] != "kB" {
			continue
		}
		if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			m[name] = kb * 1024
		}
	}
	return m, nil
}

// cpuMeter measures the CPU time processes use between start and stop.
type cpuMeter struct {
	pids  []int
	start []time.Duration
	t0    time.Time
}

func startCPU(pids ...int) *cpuMeter {
	m := &cpuMeter{pids: pids, t0: time.Now()}
	for _, p := range pids {
		c, _ := cpuTime(p)
		m.start = append(m.start, c)
	}
	return m
}

// stop returns the CPU time used by each process and the wall time.
func (m *cpuMeter) stop() ([]time.Duration, time.Duration) {
	wall := time.Since(m.t0)
	out := make([]time.Duration, len(m.pids))
	for i, p := range m.pids {
		c, _ := cpuTime(p)
		out[i] = c - m.start[i]
	}
	return out, wall
}

// saveProfile fetches a pprof profile of the bridge (BENCH_PPROF=1) into the run
// directory, for `go tool pprof RUN/bin/wxbridge RUN/<name>.pprof`.
func (e *env) saveProfile(ctx context.Context, name string) {
	e.saveProfileAs(ctx, name, name)
}

// saveProfileAs fetches the pprof endpoint (with its query, e.g. "profile?seconds=30") into
// RUN/<file>.pprof.
func (e *env) saveProfileAs(ctx context.Context, endpoint, file string) {
	if e.pprofURL == "" {
		return
	}
	name := file
	b, err := e.fetchPprof(ctx, endpoint)
	if err != nil {
		fmt.Printf("bench: pprof %s: %v\n", name, err)
		return
	}
	path := filepath.Join(e.runDir, name+".pprof")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		fmt.Printf("bench: pprof %s: %v\n", name, err)
		return
	}
	fmt.Printf("bench: %s profile of the bridge in %s\n", name, path)
}

// fetchPprof gets one of the bridge's pprof endpoints (with its query).
func (e *env) fetchPprof(ctx context.Context, endpoint string) ([]byte, error) {
	if e.pprofURL == "" {
		return nil, errors.New("no debug endpoints (BENCH_PPROF=1)")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.pprofURL+"/"+endpoint, nil)
	req.Header.Set("Authorization", "Bearer "+e.provSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return b, nil
}
