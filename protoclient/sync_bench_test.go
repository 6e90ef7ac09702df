package protoclient_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
	"wxbridge/protoclient/wxsim/wxsimtest"
)

// benchSyncBatch is how many messages one injection puts into the account: one
// webwxsync answer (wxsim's sync_batch_max is 100).
const benchSyncBatch = 100

// benchLogin starts wxsim in-process with the real 25 s synccheck hold and returns a
// client logged in by QR as wxid_alice, and the control client.
func benchLogin(b *testing.B) (*protoclient.Client, *wxsim.Control, *httptest.Server) {
	b.Helper()
	// The real synccheck hold: what the benchmark measures includes the idle polls.
	srv := wxsimtest.New(b, func(s *wxsim.Settings) { s.SynccheckHoldMS = wxsim.DefaultSettings().SynccheckHoldMS })
	ts, ctl := srv.TS, srv.Ctl
	ctx := b.Context()
	must := func(_ any, err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	must(ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: "wxid_alice", Nickname: "Alice", Uin: 1001, Host: "wx2.qq.com"}))
	bob := "Bob"
	must(ctl.AddContact(ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "wxid_bob", Nickname: &bob}))
	c, err := protoclient.New(protoclient.Options{ServerURL: ts.URL, HTTPClient: ts.Client()})
	if err != nil {
		b.Fatal(err)
	}
	must(wxsimtest.QRLogin(ctx, ctl, c, "wxid_alice"))
	return c, ctl, ts
}

// benchFragment is a webwxsync fragment of n text messages from Bob with fresh MsgIds.
func benchFragment(b *testing.B, round, n int) wxsim.SyncFragment {
	var f wxsim.SyncFragment
	for i := range n {
		id := fmt.Sprintf("7%08d%05d", round, i)
		m, err := json.Marshal(map[string]any{
			"MsgId": id, "NewMsgId": json.Number(id), "FromUserName": "@bob", "ToUserName": "@alice",
			"MsgType": protoclient.MsgText, "Content": fmt.Sprintf("message %d of round %d, an ordinary chat line 你好", i, round),
			"Status": 3, "ImgStatus": 1, "CreateTime": 1546215540 + i, "AppMsgType": 0, "SubMsgType": 0,
			"Url": "", "FileName": "", "FileSize": "", "MediaId": "", "RecommendInfo": map[string]any{},
		})
		if err != nil {
			b.Fatal(err)
		}
		f.AddMsgList = append(f.AddMsgList, m)
	}
	return f
}

// BenchmarkRunSync measures the whole receive path of the protocol client against wxsim
// in-process: a batch of 100 texts is injected (one control call), the idle synccheck
// long poll wakes, webwxsync fetches the batch, RunSync decodes, filters and hands it to a
// handler that only counts, then commits the cursor. One op = one batch; msgs/s is the
// throughput. Baseline (same run): the same injection plus two bare HTTP round trips to
// wxsim on the same keep-alive client (a synccheck and a webwxsync are two round trips),
// i.e. the transport floor of a batch; the ratio is what the protocol client adds.
func BenchmarkRunSync(b *testing.B) {
	b.Run("RunSync", func(b *testing.B) { benchRunSync(b, benchSyncBatch) })
	b.Run("baseline-http-roundtrips", func(b *testing.B) { benchRoundTrips(b, benchSyncBatch) })
	// One message per op: the latency of a single message through the web protocol's two
	// round trips (the held synccheck answers, webwxsync fetches), which is what a bridged
	// message waits before the bridge has it in hand.
	b.Run("RunSync-1", func(b *testing.B) { benchRunSync(b, 1) })
	b.Run("baseline-http-roundtrips-1", func(b *testing.B) { benchRoundTrips(b, 1) })
}

func benchRunSync(b *testing.B, batch int) {
	c, ctl, _ := benchLogin(b)
	ctx, cancel := context.WithCancel(b.Context())
	var got atomic.Int64
	arrived := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- c.RunSync(ctx, func(_ context.Context, sb *protoclient.SyncBatch) error {
			got.Add(int64(len(sb.Messages)))
			select {
			case arrived <- struct{}{}:
			default:
			}
			return nil
		}, protoclient.SyncOptions{})
	}()
	// Drain what the login leaves queued (status notify, contacts), so each op is
	// one injected batch.
	warm := benchFragment(b, 0, batch)
	if err := ctl.SyncRaw(ctx, "wxid_alice", warm); err != nil {
		b.Fatal(err)
	}
	waitCount(b, ctx, &got, arrived, int64(batch))
	feed := &fragmentFeed{b: b, batch: batch, round: 1}
	b.ReportAllocs()
	start := time.Now()
	var msgs int64
	for b.Loop() {
		f := feed.next()
		want := got.Load() + int64(batch)
		if err := ctl.SyncRaw(ctx, "wxid_alice", f); err != nil {
			b.Fatal(err)
		}
		waitCount(b, ctx, &got, arrived, want)
		msgs += int64(batch)
	}
	b.ReportMetric(float64(msgs)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(msgs, 1)), "ns/msg")
	cancel()
	<-done
}

func benchRoundTrips(b *testing.B, batch int) {
	_, ctl, ts := benchLogin(b)
	ctx := b.Context()
	hc := ts.Client()
	get := func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/_wxsim/v1/settings", nil)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	feed := &fragmentFeed{b: b, batch: batch, round: 1}
	b.ReportAllocs()
	for b.Loop() {
		if err := ctl.SyncRaw(ctx, "wxid_alice", feed.next()); err != nil {
			b.Fatal(err)
		}
		get()
		get()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/msg")
}

// fragmentFeed hands out fragments of fresh messages, made 64 at a time with the
// benchmark's timer stopped.
type fragmentFeed struct {
	b            *testing.B
	batch, round int
	frags        []wxsim.SyncFragment
}

func (f *fragmentFeed) next() wxsim.SyncFragment {
	if len(f.frags) == 0 {
		f.b.StopTimer()
		for range 64 {
			f.frags = append(f.frags, benchFragment(f.b, f.round, f.batch))
			f.round++
		}
		f.b.StartTimer()
	}
	next := f.frags[0]
	f.frags = f.frags[1:]
	return next
}

// waitCount waits until the handler has counted want messages (it signals each batch).
func waitCount(b *testing.B, ctx context.Context, got *atomic.Int64, arrived <-chan struct{}, want int64) {
	for got.Load() < want {
		select {
		case <-arrived:
		case <-ctx.Done():
			b.Fatalf("only %d of %d messages arrived", got.Load(), want)
		}
	}
}

// BenchmarkSyncCheck is one idle synccheck as the bridge makes it 40 times a second
// with 1,000 logins, answered at once (wxsim's hold set to 0) with "nothing new". One op
// = one call; B/op and allocs/op are what an idle login costs the garbage collector.
// Baseline (same run): a bare GET of the same URL on the same keep-alive client,
// whose transport asks for gzip and unpacks the answer itself.
func BenchmarkSyncCheck(b *testing.B) {
	b.Run("SyncCheck", func(b *testing.B) {
		c, ctl, _ := benchLogin(b)
		if _, err := ctl.Settings(b.Context(), map[string]any{"synccheck_hold_ms": 0}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.SyncCheck(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-http-get", func(b *testing.B) {
		_, ctl, ts := benchLogin(b)
		if _, err := ctl.Settings(b.Context(), map[string]any{"synccheck_hold_ms": 0}); err != nil {
			b.Fatal(err)
		}
		hc := ts.Client()
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, ts.URL+"/_wxsim/v1/settings", nil)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
