//go:build e2e

package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"wxbridge/test/harness"
)

// env is what test/e2e/run hands to the tests through E2E_* variables.
type env struct {
	hsURL, server, wxsimURL, runDir string

	bridge    harness.Bridge
	bridgeLog string
}

func loadEnv(t *testing.T) *env {
	t.Helper()
	get := func(k string) string {
		v := os.Getenv(k)
		if v == "" {
			t.Skipf("%s is not set: run the end-to-end tests through test/e2e/run", k)
		}
		return v
	}
	return &env{
		hsURL:    get("E2E_HS_URL"),
		server:   get("E2E_SERVER_NAME"),
		wxsimURL: get("E2E_WXSIM_URL"),
		runDir:   get("E2E_RUN_DIR"),
		bridge: harness.Bridge{
			Bin:          get("E2E_BRIDGE_BIN"),
			Dir:          get("E2E_BRIDGE_DIR"),
			Config:       get("E2E_BRIDGE_CONFIG"),
			Registration: get("E2E_BRIDGE_REGISTRATION"),
			PIDFile:      get("E2E_BRIDGE_PIDFILE"),
			Stdout:       get("E2E_BRIDGE_STDOUT"),
			ReadyURL:     get("E2E_BRIDGE_READY_URL"),
		},
		bridgeLog: get("E2E_BRIDGE_LOG"),
	}
}

// The methods below fix what is the e2e suite's own, its poll intervals and the banner of a
// restart in the bridge's stdout, so that the tests do not repeat them at each restart.

// killBridge sends SIGKILL to the running bridge and waits until the process is gone.
func (e *env) killBridge(ctx context.Context) error {
	return e.bridge.Kill(ctx, 20*time.Millisecond)
}

// startBridge starts the bridge the way test/e2e/run does and records its PID where the
// run script's cleanup finds it.
func (e *env) startBridge() (int, error) {
	p, err := e.bridge.Start("restarted by the e2e test")
	if p == nil {
		return 0, err
	}
	return p.PID(), err
}

// waitBridgeReady polls the appservice's /_matrix/mau/ready until it answers 200, the
// process dies or ctx ends.
func (e *env) waitBridgeReady(ctx context.Context, pid int) error {
	return e.bridge.WaitReady(ctx, pid, 50*time.Millisecond)
}
