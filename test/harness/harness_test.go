package harness

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeAddrEnv makes the test binary stand in for wxbridge: the suites' code paths need a
// real process that answers /_matrix/mau/ready, and the bridge itself is off limits here.
const fakeAddrEnv = "HARNESS_TEST_FAKE_BRIDGE_ADDR"

func TestMain(m *testing.M) {
	if addr := os.Getenv(fakeAddrEnv); addr != "" {
		// Start passes the bridge's flags; the stand-in has no use for them.
		http.HandleFunc("/_matrix/mau/ready", func(http.ResponseWriter, *http.Request) {})
		err := http.ListenAndServe(addr, nil)
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func testBridge(t *testing.T, addr string) *Bridge {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return &Bridge{
		Bin: exe, Dir: dir, Config: "config.yaml", Registration: "registration.yaml",
		PIDFile:  filepath.Join(dir, "bridge.pid"),
		Stdout:   filepath.Join(dir, "bridge.stdout"),
		ReadyURL: "http://" + addr + "/_matrix/mau/ready",
	}
}

func TestStartReadyKill(t *testing.T) {
	addr := freeAddr(t)
	t.Setenv(fakeAddrEnv, addr)
	b := testBridge(t, addr)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	p, err := b.Start("restarted by the harness test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Cmd.Process.Kill(); <-p.Exited })
	if err := b.WaitReady(ctx, p.PID(), 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if pid, err := b.PID(); err != nil || pid != p.PID() {
		t.Fatalf("PID() = %d, %v; started %d", pid, err, p.PID())
	}
	raw, err := os.ReadFile(b.PIDFile)
	if err != nil || string(raw) != strconv.Itoa(p.PID())+"\n" {
		t.Fatalf("PID file %q, %v", raw, err)
	}
	out, err := os.ReadFile(b.Stdout)
	if err != nil || !strings.HasPrefix(string(out), "\n===== restarted by the harness test at ") {
		t.Fatalf("stdout %q, %v: no banner", out, err)
	}

	if err := b.Kill(ctx, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !ProcessGone(p.PID()) {
		t.Fatal("ProcessGone is false after Kill")
	}
	select {
	case <-p.Exited:
	case <-ctx.Done():
		t.Fatal("Exited not closed after Kill")
	}
}

func TestWaitReadyExited(t *testing.T) {
	// Without the stand-in's variable the test binary rejects the bridge's flags and exits.
	b := testBridge(t, freeAddr(t))
	p, err := b.Start("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = b.WaitReady(ctx, p.PID(), 10*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") {
		t.Fatalf("WaitReady = %v, want the exit reported", err)
	}
	if out, _ := os.ReadFile(b.Stdout); strings.Contains(string(out), "=====") {
		t.Errorf("empty banner written: %q", out)
	}
}

func TestPIDIsNotTheBridge(t *testing.T) {
	b := testBridge(t, "127.0.0.1:1")
	b.Bin = "/nonexistent/wxbridge"
	if err := os.WriteFile(b.PIDFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if pid, err := b.PID(); err == nil {
		t.Fatalf("PID() = %d for a process that is not %s", pid, b.Bin)
	}
}

func TestProcessGone(t *testing.T) {
	if ProcessGone(os.Getpid()) {
		t.Fatal("ProcessGone is true for the test itself")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if !ProcessGone(cmd.Process.Pid) {
		t.Fatal("ProcessGone is false for a reaped child")
	}
}
