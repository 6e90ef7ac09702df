package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"maunium.net/go/mautrix/bridgev2/status"
)

// The bridge posts each state as bridgev2's BridgeState.SendHTTP does; a suite waits for
// one that arrives while it waits, and never for one from before its mark.
func TestBridgeStatesWaitForPushedStates(t *testing.T) {
	s := NewBridgeStates("/states")
	srv := httptest.NewServer(s)
	defer srv.Close()
	push := func(st status.BridgeState) {
		t.Helper()
		body, _ := json.Marshal(st)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/states", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer as-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("push answered %d", resp.StatusCode)
		}
	}
	connected := func(login string) func(PushedState) bool {
		return func(st PushedState) bool {
			return st.StateEvent == status.StateConnected && string(st.RemoteID) == login
		}
	}

	push(status.BridgeState{StateEvent: status.StateConnected, RemoteID: "1"})
	from := s.Mark()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if st, err := s.Await(ctx, from, connected("1")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Await after the mark returned %+v, %v: it saw a state from before the mark", st, err)
	}

	got := make(chan PushedState, 1)
	go func() {
		st, err := s.Await(t.Context(), from, connected("2"))
		if err != nil {
			t.Error(err)
		}
		got <- st
	}()
	push(status.BridgeState{StateEvent: status.StateTransientDisconnect, RemoteID: "2"})
	push(status.BridgeState{StateEvent: status.StateConnected, RemoteID: "2", RemoteName: "Otto"})
	st := <-got
	if st.RemoteName != "Otto" || st.Auth != "Bearer as-token" || st.At.IsZero() {
		t.Errorf("Await returned %+v, want login 2's CONNECTED with its token and arrival time", st)
	}

	resp, err := http.Get(srv.URL + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	all, stray := s.Snapshot()
	if len(all) != 3 || len(stray) != 1 || stray[0] != "GET /other" {
		t.Errorf("Snapshot: %d states, stray %q; want 3 and [GET /other]", len(all), stray)
	}
}
