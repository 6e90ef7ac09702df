//go:build chaos

package chaos

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

// env is what test/chaos/run hands to the test through CHAOS_* variables.
type env struct {
	hsURL, server, wxsimURL, runDir string
	hsDir, hsPort, hsScript         string
	hsRegs                          []string

	bridgeBin, bridgeDir, bridgeConfig, bridgeReg string
	bridgePIDFile, bridgeStdout, bridgeLog        string
	readyURL, summary                             string
}

func loadEnv(t *testing.T) *env {
	t.Helper()
	get := func(k string) string {
		v := os.Getenv(k)
		if v == "" {
			t.Skipf("%s is not set: run the chaos test through test/chaos/run", k)
		}
		return v
	}
	return &env{
		hsURL:         get("CHAOS_HS_URL"),
		server:        get("CHAOS_SERVER_NAME"),
		wxsimURL:      get("CHAOS_WXSIM_URL"),
		runDir:        get("CHAOS_RUN_DIR"),
		hsDir:         get("CHAOS_HS_DIR"),
		hsPort:        get("CHAOS_HS_PORT"),
		hsScript:      get("CHAOS_HS_SCRIPT"),
		hsRegs:        strings.Split(get("CHAOS_HS_REGS"), ":"),
		bridgeBin:     get("CHAOS_BRIDGE_BIN"),
		bridgeDir:     get("CHAOS_BRIDGE_DIR"),
		bridgeConfig:  get("CHAOS_BRIDGE_CONFIG"),
		bridgeReg:     get("CHAOS_BRIDGE_REGISTRATION"),
		bridgePIDFile: get("CHAOS_BRIDGE_PIDFILE"),
		bridgeStdout:  get("CHAOS_BRIDGE_STDOUT"),
		bridgeLog:     get("CHAOS_BRIDGE_LOG"),
		readyURL:      get("CHAOS_BRIDGE_READY_URL"),
		summary:       get("CHAOS_SUMMARY"),
	}
}

func (e *env) bridgePID() (int, error) {
	b, err := os.ReadFile(e.bridgePIDFile)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", e.bridgePIDFile, err)
	}
	// Only ever signal the bridge binary of this run.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, fmt.Errorf("bridge pid %d: %w", pid, err)
	}
	if !strings.HasPrefix(string(cmdline), e.bridgeBin+"\x00") {
		return 0, fmt.Errorf("pid %d is not %s", pid, e.bridgeBin)
	}
	return pid, nil
}

// processGone reports whether pid has exited (gone, or a zombie nobody reaped yet).
func processGone(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	if i := strings.LastIndexByte(line, ')'); i >= 0 && len(line) > i+2 {
		return line[i+2] == 'Z' || line[i+2] == 'X'
	}
	return false
}

// killBridge sends SIGKILL to the running bridge and waits until the process is gone.
func (e *env) killBridge(ctx context.Context) error {
	pid, err := e.bridgePID()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill -9 %d: %w", pid, err)
	}
	// Not our child (the first one was started by run): watch /proc on a short ticker.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !processGone(pid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("bridge pid %d still alive after SIGKILL: %w", pid, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// startBridge starts the bridge as test/chaos/run does and records its PID where the run
// script's cleanup finds it.
func (e *env) startBridge(note string) (int, error) {
	out, err := os.OpenFile(e.bridgeStdout, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	fmt.Fprintf(out, "\n===== %s: restarted by the chaos test at %s =====\n", note, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(e.bridgeBin, "-c", e.bridgeConfig, "-r", e.bridgeReg, "--ignore-unsupported-server")
	cmd.Dir = e.bridgeDir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { _ = cmd.Wait() }() // reap it when it is killed
	pid := cmd.Process.Pid
	if err := os.WriteFile(e.bridgePIDFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return pid, err
	}
	return pid, nil
}

// waitBridgeReady polls the appservice's /_matrix/mau/ready (an external process, so a
// short ticker) until it answers 200, the process dies or ctx ends.
func (e *env) waitBridgeReady(ctx context.Context, pid int) error {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	hc := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.readyURL, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		if processGone(pid) {
			return fmt.Errorf("bridge (pid %d) exited before it was ready; see %s", pid, e.bridgeStdout)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// stopHomeserver stops Dendrite through homeserver.sh (SIGTERM, by its PID file).
func (e *env) stopHomeserver(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, e.hsScript, "stop", e.hsDir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("homeserver.sh stop: %w: %s", err, out)
	}
	return nil
}

// startHomeserver starts Dendrite again with its data kept, on the same port (the bridge's
// config points there); homeserver.sh returns once the client API answers.
func (e *env) startHomeserver(ctx context.Context) error {
	args := append([]string{"start", e.hsDir}, e.hsRegs...)
	cmd := exec.CommandContext(ctx, e.hsScript, args...)
	cmd.Env = append(os.Environ(), "HS_KEEP_STATE=1", "HS_PORT="+e.hsPort)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("homeserver.sh start: %w: %s%s", err, out, stderr.String())
	}
	if !strings.Contains(string(out), "HS_URL="+e.hsURL+"\n") {
		return fmt.Errorf("homeserver.sh start printed %q, want HS_URL=%s", out, e.hsURL)
	}
	return nil
}
