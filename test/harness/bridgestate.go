package harness

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"maunium.net/go/mautrix/bridgev2/status"
)

var _ http.Handler = (*BridgeStates)(nil)

// BridgeStates plays the service behind the bridge's homeserver.status_endpoint: it keeps
// every bridge state POSTed to its path, in order, and any other request as stray. The
// bridge pushes each login's state when it changes, so a suite waits for a state without
// asking the bridge again and again (a poll of /v3/whoami per login is load on the very
// process being measured).
type BridgeStates struct {
	path    string
	mu      sync.Mutex
	states  []PushedState
	stray   []string
	changed chan struct{} // closed and replaced at every state
}

// PushedState is one state as the bridge pushed it.
type PushedState struct {
	status.BridgeState
	Auth string    // the Authorization header it came with
	At   time.Time // when it arrived
}

// NewBridgeStates returns a receiver for POSTs to path.
func NewBridgeStates(path string) *BridgeStates {
	return &BridgeStates{path: path, changed: make(chan struct{})}
}

func (s *BridgeStates) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var st status.BridgeState
	if r.Method != http.MethodPost || r.URL.Path != s.path {
		s.mu.Lock()
		s.stray = append(s.stray, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.states = append(s.states, PushedState{BridgeState: st, Auth: r.Header.Get("Authorization"), At: time.Now()})
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Mark is the number of states received so far: Wait and Await from Mark see only later
// ones.
func (s *BridgeStates) Mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.states)
}

// Snapshot is every state received so far and the stray requests.
func (s *BridgeStates) Snapshot() ([]PushedState, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.states), slices.Clone(s.stray)
}

// Wait calls done with the states after the first from, once now and again after every
// new state, until it returns true or ctx ends. done runs with the receiver locked: it must
// not keep the slice.
func (s *BridgeStates) Wait(ctx context.Context, from int, done func(states []PushedState) bool) error {
	for {
		s.mu.Lock()
		ok := done(s.states[min(from, len(s.states)):])
		changed := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Await waits for the first state after the first from that matches.
func (s *BridgeStates) Await(ctx context.Context, from int, match func(PushedState) bool) (PushedState, error) {
	var got PushedState
	err := s.Wait(ctx, from, func(states []PushedState) bool {
		for _, st := range states {
			if match(st) {
				got = st
				return true
			}
		}
		return false
	})
	return got, err
}
