//go:build bench

package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
)

// The soak tells pooled HTTP connections' loops from the bridge's own goroutines by
// reading the goroutine profile; this holds three connections open in this process and
// reads its own profile the same way.
func TestParseGoroutineProfile(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{}, 3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	done := make(chan error, 3)
	for range 3 {
		go func() {
			resp, err := hc.Get(srv.URL)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				err = resp.Body.Close()
			}
			done <- err
		}()
	}
	// Three requests held by the server: three connections, each with its two loops.
	for range 3 {
		<-arrived
	}
	var b strings.Builder
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		t.Fatal(err)
	}
	total, loops := parseGoroutineProfile(b.String())
	if loops != 6 {
		t.Errorf("%d connection loops counted for 3 client connections, want 6", loops)
	}
	if total < loops+3 { // the three requesting goroutines at least
		t.Errorf("total %d, connection loops %d", total, loops)
	}
	close(release)
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
