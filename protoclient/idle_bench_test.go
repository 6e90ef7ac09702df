package protoclient_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
	"wxbridge/protoclient/wxsim/wxsimtest"
)

// BenchmarkIdleLogins measures what one logged-in, idle protocol client costs in memory:
// n clients log in by QR to their own wxsim accounts (in-process, real 25 s synccheck
// hold) and run RunSync with a no-op handler; reported per login are the heap in use and
// the goroutine stacks after a GC (the protocol client's share of the bridge's RSS per
// login). Baseline: the same numbers before any login.
func BenchmarkIdleLogins(b *testing.B) {
	const n = 200
	for b.Loop() {
		st := wxsim.DefaultSettings()
		st.LoginPollHoldMS = 500
		sim := wxsim.New(wxsim.Options{Settings: &st})
		ts := newLoopbackServer(b, sim)
		ctx, cancel := context.WithCancel(b.Context())
		ctl := &wxsim.Control{BaseURL: ts.URL, HTTP: ts.Client()}
		before := memNow()
		done := make(chan struct{}, n)
		for i := range n {
			wxid := fmt.Sprintf("wxid_idle%04d", i)
			if _, err := ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: wxid, Uin: int64(9000 + i), Host: "wx2.qq.com"}); err != nil {
				b.Fatal(err)
			}
			// Each client has its own HTTP client, as each bridge login does.
			c, err := protoclient.New(protoclient.Options{ServerURL: ts.URL})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := wxsimtest.QRLogin(ctx, ctl, c, wxid); err != nil {
				b.Fatal(err)
			}
			go func() {
				_ = c.RunSync(ctx, func(context.Context, *protoclient.SyncBatch) error { return nil }, protoclient.SyncOptions{})
				done <- struct{}{}
			}()
		}
		after := memNow()
		// IDLE_HEAPPROFILE=file writes the heap profile of this moment (all logins idle).
		if path := os.Getenv("IDLE_HEAPPROFILE"); path != "" {
			if f, err := os.Create(path); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		b.ReportMetric(float64(after.heap-before.heap)/n, "heap-B/login")
		b.ReportMetric(float64(after.stack-before.stack)/n, "stack-B/login")
		b.ReportMetric(float64(after.goroutines-before.goroutines)/n, "goroutines/login")
		cancel()
		for range n {
			<-done
		}
		ts.Close()
		sim.Close()
	}
}

type memSnap struct {
	heap, stack uint64
	goroutines  int
}

func memNow() memSnap {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSnap{heap: m.HeapInuse, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

func newLoopbackServer(b *testing.B, h *wxsim.Server) *httptest.Server {
	b.Helper()
	return httptest.NewServer(h)
}
