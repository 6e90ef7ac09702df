package protoclient_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

// runSync runs RunSync in the background, handing every batch to got; stop ends it and
// returns its error.
func runSync(e *env, c *protoclient.Client, opts protoclient.SyncOptions, handle protoclient.SyncHandler) (stop func() error) {
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- c.RunSync(ctx, handle, opts) }()
	return func() error {
		cancel()
		return <-done
	}
}

// collector gathers decoded texts from batches and signals when a wanted one arrives.
type collector struct {
	mu    sync.Mutex
	texts []string
	ids   map[string]int
	want  map[string]chan struct{}
}

func newCollector(want ...string) *collector {
	c := &collector{ids: map[string]int{}, want: map[string]chan struct{}{}}
	for _, w := range want {
		c.want[w] = make(chan struct{})
	}
	return c
}

func (c *collector) handle(_ context.Context, b *protoclient.SyncBatch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range b.Messages {
		c.ids[m.MsgId]++
	}
	for _, t := range texts(b) {
		c.texts = append(c.texts, t)
		if ch, ok := c.want[t]; ok {
			close(ch)
			delete(c.want, t)
		}
	}
	return nil
}

func (c *collector) wait(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	c.mu.Lock()
	ch, ok := c.want[text]
	c.mu.Unlock()
	if !ok {
		return
	}
	select {
	case <-ch:
	case <-ctx.Done():
		t.Fatalf("%q never arrived", text)
	}
}

// ContinueFlag: with 2 messages per batch, 7 messages arrive through consecutive
// webwxsync calls without a synccheck between them.
func TestRunSyncHonoursContinueFlag(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.SyncBatchMax = 2 })
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	for i := range 7 {
		if _, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 1, Content: fmt.Sprintf("m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.ctl.ResetStats(e.ctx); err != nil {
		t.Fatal(err)
	}
	col := newCollector("m6")
	stop := runSync(e, c, protoclient.SyncOptions{}, col.handle)
	col.wait(t, e.ctx, "m6")
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("RunSync ended with %v", err)
	}
	st, _ := e.ctl.Stats(e.ctx)
	// One synccheck finds the backlog (a second may have started after the last batch);
	// the rest is fetched by webwxsync alone.
	if st.Requests["synccheck"] > 2 || st.Requests["webwxsync"] < 4 {
		t.Fatalf("synccheck %d, webwxsync %d: ContinueFlag not honoured", st.Requests["synccheck"], st.Requests["webwxsync"])
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	seen := map[string]bool{}
	for _, s := range col.texts {
		seen[s] = true
	}
	for i := range 7 {
		if !seen[fmt.Sprintf("m%d", i)] {
			t.Fatalf("m%d missing from %v", i, col.texts)
		}
	}
	for id, n := range col.ids {
		if n != 1 {
			t.Fatalf("message %s delivered %d times", id, n)
		}
	}
}

// A failing server gets a bounded request rate (capped exponential back-off), the loop
// reports the trouble and the recovery, and nothing is lost.
func TestRunSyncBacksOffAndRecovers(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	if _, err := e.ctl.AddFault(e.ctx, wxsim.Fault{Account: "wxid_alice", Endpoint: "synccheck", Kind: "http_status", Value: 502, Count: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 1, Content: "after the outage"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var states []protoclient.SyncState
	col := newCollector("after the outage")
	start := time.Now()
	stop := runSync(e, c, protoclient.SyncOptions{
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond,
		OnState: func(s protoclient.SyncState, _ error) { mu.Lock(); states = append(states, s); mu.Unlock() },
	}, col.handle)
	col.wait(t, e.ctx, "after the outage")
	elapsed := time.Since(start)
	stop()
	// 4 failures with back-off 50, 100, 200, 400 ms: at least 750 ms of waiting.
	if elapsed < 700*time.Millisecond {
		t.Fatalf("recovered after %v: the loop did not back off", elapsed)
	}
	st, _ := e.ctl.Stats(e.ctx)
	if n := st.Requests["synccheck"]; n > 8 {
		t.Fatalf("%d synccheck requests for 4 failures: a tight loop", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) < 2 || states[0] != protoclient.SyncRetrying || states[len(states)-1] != protoclient.SyncConnected {
		t.Fatalf("states = %v, want retrying then connected", states)
	}
}

// A handler that fails (the bridge could not store the batch) leaves the cursor, and
// the batch comes again.
func TestRunSyncRedeliversWhenHandlerFails(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	ref, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 1, Content: "store me"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := 0
	stored := make(chan struct{})
	stop := runSync(e, c, protoclient.SyncOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		func(_ context.Context, b *protoclient.SyncBatch) error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range b.Messages {
				if m.MsgId == ref.MsgID {
					seen++
					if seen == 1 {
						return errors.New("database is locked")
					}
					close(stored)
				}
			}
			return nil
		})
	select {
	case <-stored:
	case <-e.ctx.Done():
		t.Fatal("message not redelivered after the handler failed")
	}
	stop()
	if committed := c.SyncKey(); !committed.Valid() {
		t.Fatal("no cursor committed after success")
	}
}

// Logout retcodes end the loop with the typed error, from synccheck and from API Ret.
func TestLogoutRetcodesAreTyped(t *testing.T) {
	for _, code := range []int{1100, 1101, 1102} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.client()
			e.qrLogin(c, "wxid_alice")
			if err := e.ctl.Logout(e.ctx, "wxid_alice", code); err != nil {
				t.Fatal(err)
			}
			err := c.RunSync(e.ctx, func(context.Context, *protoclient.SyncBatch) error { return nil }, protoclient.SyncOptions{})
			var lo *protoclient.LoggedOutError
			if !errors.As(err, &lo) || lo.Retcode != code || lo.Endpoint != "synccheck" {
				t.Fatalf("RunSync = %v, want LoggedOutError %d from synccheck", err, code)
			}
			_, err = c.Sync(e.ctx)
			if !errors.As(err, &lo) || !protoclient.IsLoggedOutCode(lo.Retcode) {
				t.Fatalf("Sync after logout = %v, want LoggedOutError", err)
			}
		})
	}
}

// After the server ends a session, push login brings the account back without a QR
// scan, on the same host family.
func TestPushLoginAfterLogout(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	saved := c.Session()
	if err := e.ctl.Logout(e.ctx, "wxid_alice", 1101); err != nil {
		t.Fatal(err)
	}
	// A restarted process: restore, find the session dead, push login.
	c2 := e.client()
	if err := c2.Restore(saved); err != nil {
		t.Fatal(err)
	}
	_, err := c2.Resume(e.ctx)
	var lo *protoclient.LoggedOutError
	if !errors.As(err, &lo) {
		t.Fatalf("resume of a dead session = %v, want LoggedOutError", err)
	}
	uuid, err := c2.PushLogin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.PushLoginConfirm(e.ctx, "wxid_alice"); err != nil {
		t.Fatal(err)
	}
	var res protoclient.LoginPollResult
	for tip := 1; res.Code != protoclient.LoginConfirmed; tip = 0 {
		if res, err = c2.PollLogin(e.ctx, uuid, tip); err != nil {
			t.Fatal(err)
		}
	}
	init, err := c2.CompleteLogin(e.ctx, res.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	if init.User.NickName != "Alice" || c2.Hosts().Web != "wx2.qq.com" {
		t.Fatalf("after push login: user %q host %q", init.User.NickName, c2.Hosts().Web)
	}
	if init.User.UserName == saved.UserName {
		t.Fatal("a new login kept the old session UserName; wxsim must issue new ones")
	}
	if r, err := c2.SyncCheck(e.ctx); err != nil || r.Retcode != 0 {
		t.Fatalf("synccheck after push login: %+v %v", r, err)
	}
}

// Errors must never carry the session's secrets: url.Error texts include the whole
// URL, whose query holds skey and pass_ticket.
func TestErrorsDoNotLeakSecrets(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	s := c.Session()
	if _, err := e.ctl.AddFault(e.ctx, wxsim.Fault{Endpoint: "*", Kind: "reset"}); err != nil {
		t.Fatal(err)
	}
	var errs []error
	_, err := c.SyncCheck(e.ctx)
	errs = append(errs, err)
	_, err = c.Sync(e.ctx)
	errs = append(errs, err)
	_, err = c.GetContacts(e.ctx)
	errs = append(errs, err)
	secrets := []string{s.Skey, s.PassTicket, s.Sid}
	for _, ck := range s.Cookies {
		if len(ck.Value) > 4 {
			secrets = append(secrets, ck.Value)
		}
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error through a reset")
		}
		for _, sec := range secrets {
			if sec != "" && strings.Contains(err.Error(), sec) {
				t.Fatalf("error %q contains a secret", err)
			}
		}
	}
	if out := fmt.Sprint(s); strings.Contains(out, s.Skey) || strings.Contains(out, s.Sid) {
		t.Fatalf("printing a session shows secrets: %s", out)
	}
}
