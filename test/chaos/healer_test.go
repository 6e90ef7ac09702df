//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// wedgeMarkers are what Dendrite v0.13.8 logs, for every write, once its SQLite roomserver
// database is stuck after a SQLITE_BUSY under load: every event send then fails with 500
// until Dendrite restarts. That is a fault of the test homeserver, not of the bridge.
var wedgeMarkers = [][]byte{
	[]byte("cannot start a transaction within a transaction"),
	// The other way it gets stuck under load: every write answered 500 with SQLITE_BUSY
	// for minutes (a full run's Matrix client gave up after 50 tries of one send).
	[]byte("database is locked (5) (SQLITE_BUSY)"),
}

// healer restarts Dendrite (data kept, same port) when it is wedged, so that the trials go
// on; every restart is counted against the phase that saw it and shown in the summary.
// The bridge must come through a homeserver restart without losing or doubling anything,
// so the counts stay valid.
type healer struct {
	e    *env
	logf func(format string, args ...any)

	mu       sync.Mutex
	paused   bool // the outage phase stops and starts the homeserver itself
	phase    string
	restarts map[string]int
}

func newHealer(e *env, logf func(string, ...any)) *healer {
	return &healer{e: e, logf: logf, restarts: map[string]int{}}
}

func (h *healer) setPhase(p string) {
	h.mu.Lock()
	h.phase = p
	h.mu.Unlock()
}

func (h *healer) pause(p bool) {
	h.mu.Lock()
	h.paused = p
	h.mu.Unlock()
}

func (h *healer) count(phase string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.restarts[phase]
}

func (h *healer) wedgeLines() int {
	b, err := os.ReadFile(filepath.Join(h.e.hsDir, "dendrite.log"))
	if err != nil {
		return 0
	}
	n := 0
	for _, m := range wedgeMarkers {
		n += bytes.Count(b, m)
	}
	return n
}

// run watches Dendrite's log (an external process: a ticker) until ctx ends. Dendrite is
// wedged when wedge lines keep coming (each failed write logs some) for 3 s, without a quiet
// gap of 10 s.
func (h *healer) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := h.wedgeLines()
	var first, latest time.Time
	base := last
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		h.mu.Lock()
		paused := h.paused
		h.mu.Unlock()
		n := h.wedgeLines()
		now := time.Now()
		if n < last { // a new log after a restart
			last = n
		}
		if n > last {
			if first.IsZero() || now.Sub(latest) > 10*time.Second {
				first, base = now, last
			}
			latest = now
		}
		last = n
		if paused {
			first = time.Time{}
			continue
		}
		if !first.IsZero() && now.Sub(first) >= 3*time.Second && now.Sub(latest) <= 10*time.Second && n-base >= 3 {
			h.restart(ctx, n-base)
			first = time.Time{}
			last = h.wedgeLines()
		}
	}
}

func (h *healer) restart(ctx context.Context, lines int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paused {
		return
	}
	h.restarts[h.phase]++
	n := 0
	for _, c := range h.restarts {
		n += c
	}
	keep := filepath.Join(h.e.hsDir, fmt.Sprintf("dendrite-wedged-%d.log", n))
	if b, err := os.ReadFile(filepath.Join(h.e.hsDir, "dendrite.log")); err == nil {
		_ = os.WriteFile(keep, b, 0o644)
	}
	h.logf("%s: Dendrite's SQLite is wedged (%d wedge lines (%q, …) in its log, kept as %s): restarting it with its data", h.phase, lines, wedgeMarkers[0], keep)
	t0 := time.Now()
	if err := h.e.stopHomeserver(ctx); err != nil {
		h.logf("healer: %v", err)
	}
	if err := h.e.startHomeserver(ctx); err != nil {
		h.logf("healer: %v", err)
		return
	}
	h.logf("%s: Dendrite is back after %s", h.phase, time.Since(t0).Round(time.Millisecond))
}
