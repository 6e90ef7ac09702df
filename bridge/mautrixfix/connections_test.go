package mautrixfix

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/appservice"
)

// Sending on as many connections at once as a batch of portals does, and again, must reuse
// the connections of the first time instead of dialling the homeserver anew.
func TestHomeserverConnectionsKept(t *testing.T) {
	// As many requests at once as the bridge's portals of one batch send.
	const portalConcurrency = 16
	var opened atomic.Int32
	// The server answers a burst only once all of it has arrived, so each burst needs
	// exactly portalConcurrency connections at once (no request finishes early and
	// frees a connection while other dials are still under way).
	var (
		barrierMu sync.Mutex
		arrived   int
		all       = make(chan struct{})
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		barrierMu.Lock()
		arrived++
		wait := all
		if arrived == portalConcurrency {
			close(all)
			arrived, all = 0, make(chan struct{})
		}
		barrierMu.Unlock()
		select {
		case <-wait:
		case <-r.Context().Done():
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	burst := func(c *http.Client) {
		// returned: the transport has taken each connection back (or refused to keep
		// it); it does that after Body.Close returns, and a second burst that starts
		// before would dial for a connection that is about to be idle.
		var wg, returned sync.WaitGroup
		start := make(chan struct{})
		for range portalConcurrency {
			wg.Add(1)
			returned.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{PutIdleConn: func(error) { returned.Done() }})
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
				resp, err := c.Do(req)
				if err != nil {
					returned.Done()
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
		close(start)
		wg.Wait()
		done := make(chan struct{})
		go func() {
			returned.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the transport did not take its connections back within 10 s")
		}
	}
	for _, keep := range []bool{false, true} {
		as := &appservice.AppService{HTTPClient: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
		if keep {
			as.HTTPClient.Transport = nil
			KeepHomeserverConnections(as, 4*portalConcurrency)
		}
		burst(as.HTTPClient)
		first := opened.Swap(0)
		burst(as.HTTPClient)
		second := opened.Swap(0)
		t.Logf("keep=%v: %d connections for the first burst of %d, %d new for the second", keep, first, portalConcurrency, second)
		// A burst uses at most portalConcurrency connections at once; kept connections mean
		// the second burst adds only what the first did not need.
		if keep && first+second > portalConcurrency {
			t.Errorf("two bursts of %d opened %d + %d connections to the homeserver, want at most %d in all",
				portalConcurrency, first, second, portalConcurrency)
		}
		if !keep && first+second <= portalConcurrency {
			t.Logf("the default transport kept its connections this time (%d + %d)", first, second)
		}
		as.HTTPClient.CloseIdleConnections()
	}
}
