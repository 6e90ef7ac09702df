//go:build e2e

package e2e

import (
	"context"
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
	h := suiteEnv(t)
	e := &env{
		hsURL:     h.Get("HS_URL"),
		server:    h.Get("SERVER_NAME"),
		wxsimURL:  h.Get("WXSIM_URL"),
		runDir:    h.Get("RUN_DIR"),
		bridge:    h.Bridge(),
		bridgeLog: h.Get("BRIDGE_LOG"),
	}
	e.bridge.PIDFile, e.bridge.ReadyURL = h.Get("BRIDGE_PIDFILE"), h.Get("BRIDGE_READY_URL")
	return e
}

// onSynapse: the run's homeserver is Synapse, which pushes what Dendrite does not
// (redactions, receipts) to appservices, so the rows Dendrite skips must pass.
func (e *env) onSynapse() bool { return e.bridge.HomeserverKind == "synapse" }

// suiteEnv reads the E2E_* variables test/e2e/run sets.
func suiteEnv(t *testing.T) harness.Env {
	return harness.Env{TB: t, Prefix: "E2E", Runner: "test/e2e/run"}
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
