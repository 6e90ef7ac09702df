// Package harness handles the bridge process for the slow suites (test/e2e, test/chaos,
// test/bench): they run the built wxbridge binary next to Dendrite and wxsim, and kill,
// restart and wait for it from their tests the same way; their scripted Matrix users are
// one MatrixUser (matrix.go). It has no build tag so that every suite can import it. It
// must not import the bridge's own packages: the suites test the binary from the outside,
// as a user runs it, and code linked in from the bridge would let a test depend on the
// bridge's insides.
package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bridge is the bridge of one run, as the suite's run script hands it over.
type Bridge struct {
	Bin, Dir, Config, Registration string
	// PIDFile is where the run script's cleanup looks for the bridge to stop, so every
	// start records its PID there.
	PIDFile string
	// Stdout collects stdout and stderr of every start, appended: the output of a start
	// that dies early stays next to that of the earlier ones.
	Stdout   string
	ReadyURL string // the appservice's /_matrix/mau/ready
	// HomeserverKind is "synapse" or "dendrite" (the default). Only Dendrite, which speaks
	// Matrix v1.2 where bridgev2 wants v1.4, needs --ignore-unsupported-server.
	HomeserverKind string
}

// Args are the bridge's command-line arguments, as the run scripts give them.
func (b *Bridge) Args() []string {
	args := []string{"-c", b.Config, "-r", b.Registration}
	if b.HomeserverKind != "synapse" {
		args = append(args, "--ignore-unsupported-server")
	}
	return args
}

// PID is the PID of the running bridge from PIDFile.
func (b *Bridge) PID() (int, error) {
	raw, err := os.ReadFile(b.PIDFile)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", b.PIDFile, err)
	}
	// Only ever signal the bridge binary of this run: the PID may have been reused since.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, fmt.Errorf("bridge pid %d: %w", pid, err)
	}
	if !strings.HasPrefix(string(cmdline), b.Bin+"\x00") {
		return 0, fmt.Errorf("pid %d is not %s", pid, b.Bin)
	}
	return pid, nil
}

// ProcessGone reports whether pid has exited (gone, or a zombie nobody reaped yet).
func ProcessGone(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	// The command name in parentheses may itself hold ") ": the state follows the last one.
	if i := strings.LastIndexByte(line, ')'); i >= 0 && len(line) > i+2 {
		return line[i+2] == 'Z' || line[i+2] == 'X'
	}
	return false
}

// Kill sends SIGKILL to the running bridge and waits until the process is gone, looking
// every poll.
func (b *Bridge) Kill(ctx context.Context, poll time.Duration) error {
	pid, err := b.PID()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill -9 %d: %w", pid, err)
	}
	// The first bridge is the run script's child and a restarted one is reaped by Start's
	// goroutine: there is no wait(2) to make here, so watch /proc on a short ticker.
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for !ProcessGone(pid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("bridge pid %d still alive after SIGKILL: %w", pid, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// Process is a bridge the test started itself.
type Process struct {
	Cmd *exec.Cmd
	// Started is taken just before the exec, so that a startup time measured from it
	// leaves out the harness's own file handling.
	Started time.Time
	// Exited is closed once the process has exited and been reaped.
	Exited <-chan struct{}
}

// PID is the process id of p.
func (p *Process) PID() int { return p.Cmd.Process.Pid }

// Start starts the bridge the way the run scripts do (same arguments and directory, its
// own session) and records its PID in PIDFile. A non-empty banner goes to Stdout first, with
// the time, so that the output of each restart can be told apart there. When only writing
// PIDFile fails, Start returns the running process with the error.
func (b *Bridge) Start(banner string) (*Process, error) {
	out, err := os.OpenFile(b.Stdout, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	// The child has its own copy of the descriptor.
	defer out.Close()
	if banner != "" {
		fmt.Fprintf(out, "\n===== %s at %s =====\n", banner, time.Now().Format(time.RFC3339Nano))
	}
	cmd := exec.Command(b.Bin, b.Args()...)
	cmd.Dir = b.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	// Reap it whenever it dies, killed by the test or not, so that it leaves no zombie.
	go func() { _ = cmd.Wait(); close(exited) }()
	p := &Process{Cmd: cmd, Started: started, Exited: exited}
	if err := os.WriteFile(b.PIDFile, []byte(strconv.Itoa(p.PID())+"\n"), 0o644); err != nil {
		return p, err
	}
	return p, nil
}

// WaitReady polls ReadyURL every poll (the bridge is another process: there is nothing to
// wait on) until it answers 200, the process pid dies or ctx ends.
func (b *Bridge) WaitReady(ctx context.Context, pid int, poll time.Duration) error {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	hc := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.ReadyURL, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		if ProcessGone(pid) {
			return fmt.Errorf("bridge (pid %d) exited before it was ready; see %s", pid, b.Stdout)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// Env reads what a suite's run script hands its tests: environment variables named
// Prefix_NAME (E2E_HS_URL, CHAOS_BRIDGE_BIN, …).
type Env struct {
	TB     testing.TB
	Prefix string // "E2E", "CHAOS", "BENCH"
	Runner string // the script that sets them, named when they are missing
}

// Get is Prefix_name. A missing one skips the test: the suites run only through their
// scripts, which start the homeserver, wxsim and the bridge first.
func (e Env) Get(name string) string {
	e.TB.Helper()
	k := e.Prefix + "_" + name
	v := os.Getenv(k)
	if v == "" {
		e.TB.Skipf("%s is not set: run these tests through %s", k, e.Runner)
	}
	return v
}

// Bridge is the bridge of the run: Prefix_BRIDGE_BIN, _DIR, _CONFIG, _REGISTRATION and
// _STDOUT, and _PIDFILE and _READY_URL where the script knows them.
func (e Env) Bridge() Bridge {
	e.TB.Helper()
	opt := func(name string) string { return os.Getenv(e.Prefix + "_BRIDGE_" + name) }
	return Bridge{
		Bin:          e.Get("BRIDGE_BIN"),
		Dir:          e.Get("BRIDGE_DIR"),
		Config:       e.Get("BRIDGE_CONFIG"),
		Registration: e.Get("BRIDGE_REGISTRATION"),
		Stdout:       e.Get("BRIDGE_STDOUT"),
		PIDFile:      opt("PIDFILE"),
		ReadyURL:     opt("READY_URL"),
		// Set by test/e2e/run; the chaos and bench runs use Dendrite.
		HomeserverKind: os.Getenv(e.Prefix + "_HS_KIND"),
	}
}
