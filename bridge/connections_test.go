package bridge

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"maunium.net/go/mautrix/appservice"
)

// Sending on as many connections at once as a batch of portals does, and again, must reuse
// the connections of the first time instead of dialling the homeserver anew.
func TestHomeserverConnectionsKept(t *testing.T) {
	var opened atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	burst := func(c *http.Client) {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range portalConcurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}()
		}
		close(start)
		wg.Wait()
	}
	for _, keep := range []bool{false, true} {
		as := &appservice.AppService{HTTPClient: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
		if keep {
			as.HTTPClient.Transport = nil
			keepHomeserverConnections(as)
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
