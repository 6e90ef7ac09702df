//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"wxbridge/test/harness"
)

// env is what test/chaos/run hands to the test through CHAOS_* variables.
type env struct {
	hsURL, server, wxsimURL, runDir string
	hsDir, hsPort, hsScript         string
	hsRegs                          []string

	bridge             harness.Bridge
	bridgeLog, summary string
}

func loadEnv(t *testing.T) *env {
	t.Helper()
	h := harness.Env{TB: t, Prefix: "CHAOS", Runner: "test/chaos/run"}
	e := &env{
		hsURL:     h.Get("HS_URL"),
		server:    h.Get("SERVER_NAME"),
		wxsimURL:  h.Get("WXSIM_URL"),
		runDir:    h.Get("RUN_DIR"),
		hsDir:     h.Get("HS_DIR"),
		hsPort:    h.Get("HS_PORT"),
		hsScript:  h.Get("HS_SCRIPT"),
		hsRegs:    strings.Split(h.Get("HS_REGS"), ":"),
		bridge:    h.Bridge(),
		bridgeLog: h.Get("BRIDGE_LOG"),
		summary:   h.Get("SUMMARY"),
	}
	e.bridge.PIDFile, e.bridge.ReadyURL = h.Get("BRIDGE_PIDFILE"), h.Get("BRIDGE_READY_URL")
	return e
}

// The methods below fix what is the chaos suite's own, its poll intervals and the banner
// of a restart in the bridge's stdout, so that the tests do not repeat them at each restart.

// killBridge sends SIGKILL to the running bridge and waits until the process is gone.
func (e *env) killBridge(ctx context.Context) error {
	return e.bridge.Kill(ctx, 10*time.Millisecond)
}

// startBridge starts the bridge as test/chaos/run does and records its PID where the run
// script's cleanup finds it; note names the phase in the banner.
func (e *env) startBridge(note string) (int, error) {
	p, err := e.bridge.Start(note + ": restarted by the chaos test")
	if p == nil {
		return 0, err
	}
	return p.PID(), err
}

// waitBridgeReady polls the appservice's /_matrix/mau/ready until it answers 200, the
// process dies or ctx ends.
func (e *env) waitBridgeReady(ctx context.Context, pid int) error {
	return e.bridge.WaitReady(ctx, pid, 25*time.Millisecond)
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
