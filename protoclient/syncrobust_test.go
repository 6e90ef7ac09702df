package protoclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

// batchLog records every batch RunSync hands over and signals when a wanted text has
// arrived.
type batchLog struct {
	mu      sync.Mutex
	batches []*protoclient.SyncBatch
	col     *collector
}

func (l *batchLog) handle(ctx context.Context, b *protoclient.SyncBatch) error {
	l.mu.Lock()
	l.batches = append(l.batches, b)
	l.mu.Unlock()
	// The collector looks for texts with a regexp; spare it the 1 MiB one.
	small := *b
	small.Messages = nil
	for _, m := range b.Messages {
		if len(m.Content) < 1<<16 {
			small.Messages = append(small.Messages, m)
		}
	}
	return l.col.handle(ctx, &small)
}

// A batch with broken entries: the good ones are delivered, the broken ones listed in
// Malformed with their ids, the cursor moves on and the loop does not spin.
func TestRunSyncDeliversAroundMalformedEntries(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	msg := func(fields string) json.RawMessage {
		return json.RawMessage(`{"FromUserName":"{{wxid_bob}}","ToUserName":"{{self}}",` + fields + `}`)
	}
	frag := wxsim.SyncFragment{
		AddMsgList: []json.RawMessage{
			msg(`"MsgId":"9001","MsgType":1,"Content":"good","CreateTime":1700000000,"NewMsgId":9001`),
			// Coercible mistakes: numbers as strings and back, a float, a boolean.
			msg(`"MsgId":9002,"MsgType":"1","Content":"coerced","CreateTime":"1700000001","ImgStatus":1.0,"Status":true,"NewMsgId":"9002","FileSize":123`),
			// Not coercible.
			msg(`"MsgId":"9003","MsgType":"abc","Content":"wrong types","CreateTime":"x"`),
			msg(`"MsgId":"9004","MsgType":1,"Content":{"text":"an object"}`),
			msg(`"MsgType":1,"Content":"no id"`),
			msg(`"MsgId":"9006","MsgType":12345,"Content":"from the future"`),
			msg(`"MsgId":"9007","MsgType":1,"Content":"` + big + `"`),
			msg(`"MsgId":"9001","MsgType":1,"Content":"same id, other text","CreateTime":1700000002`),
		},
		ModContactList: []json.RawMessage{
			json.RawMessage(`{"UserName":"{{wxid_bob}}","NickName":"Bobby","Sex":"1","ContactFlag":"3","VerifyFlag":null}`),
			json.RawMessage(`{"UserName":"@broken","NickName":"Broken","MemberList":"not a list"}`),
		},
		DelContactList: []json.RawMessage{json.RawMessage(`{"UserName":{"no":"string"}}`)},
	}
	if err := e.ctl.SyncRaw(e.ctx, "wxid_alice", frag); err != nil {
		t.Fatal(err)
	}
	log := &batchLog{col: newCollector("good", "after the bad batch")}
	stop := runSync(e, c, protoclient.SyncOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, log.handle)
	log.col.wait(t, e.ctx, "good")
	if _, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 1, Content: "after the bad batch"}); err != nil {
		t.Fatal(err)
	}
	log.col.wait(t, e.ctx, "after the bad batch")
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("RunSync ended with %v", err)
	}
	st, err := e.ctl.Stats(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.Requests["webwxsync"]; n > 8 {
		t.Fatalf("%d webwxsync requests for two batches: the loop spins on the broken one", n)
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	var bad *protoclient.SyncBatch
	for _, b := range log.batches {
		if len(b.Malformed) > 0 {
			if bad != nil {
				t.Fatal("the broken entries were delivered twice")
			}
			bad = b
		}
	}
	if bad == nil {
		t.Fatal("no batch reported malformed entries")
	}
	byID := map[string][]protoclient.Message{}
	n := 0
	for _, m := range bad.Messages {
		if m.MsgType == protoclient.MsgStatusNotify {
			continue // the phone's op-4 message after login may share the batch
		}
		byID[m.MsgId] = append(byID[m.MsgId], m)
		n++
	}
	if n != 5 || len(byID["9001"]) != 2 || byID["9001"][1].Content != "same id, other text" {
		t.Fatalf("delivered %d messages %v; want 9001 twice, 9002, 9006, 9007", n, keys(byID))
	}
	if m := byID["9002"]; len(m) != 1 || m[0].MsgType != 1 || m[0].CreateTime != 1700000001 || m[0].ImgStatus != 1 ||
		m[0].Status != 1 || m[0].NewMsgId != 9002 || m[0].FileSize != "123" {
		t.Fatalf("coerced message %+v", m)
	}
	if m := byID["9006"]; len(m) != 1 || m[0].MsgType != 12345 {
		t.Fatalf("unknown MsgType %+v", m)
	}
	if m := byID["9007"]; len(m) != 1 || m[0].Content != big {
		t.Fatal("the 1 MiB Content did not arrive whole")
	}
	var bobby *protoclient.Contact
	for i := range bad.ModContacts {
		if bad.ModContacts[i].NickName == "Bobby" {
			bobby = &bad.ModContacts[i]
		}
	}
	if bobby == nil || bobby.Sex != 1 || bobby.ContactFlag != 3 {
		t.Fatalf("coerced contact %+v", bobby)
	}
	type want struct{ kind, id string }
	var got []want
	for _, m := range bad.Malformed {
		id := m.MsgID
		if m.Kind != protoclient.MalformedMessage {
			id = string(m.UserName)
		}
		got = append(got, want{m.Kind, id})
		if !errors.Is(m.Err, protoclient.ErrMalformed) || len(m.Raw) == 0 || len(m.Raw) > protoclient.MaxMalformedRaw || m.Size < len(m.Raw) {
			t.Fatalf("malformed entry %+v", m)
		}
		if m.Kind == protoclient.MalformedMessage && m.FromUserName == "" {
			t.Fatalf("malformed message without its sender: %+v", m)
		}
	}
	wantList := []want{{"message", "9003"}, {"message", "9004"}, {"message", ""}, {"contact", "@broken"}, {"del_contact", ""}}
	if fmt.Sprint(got) != fmt.Sprint(wantList) {
		t.Fatalf("malformed %v, want %v", got, wantList)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Under every fault wxsim can inject on synccheck and webwxsync, RunSync recovers by
// itself, its request rate stays bounded while the fault lasts, and every message sent
// meanwhile arrives exactly once. Each case has its own wxsim; all run at once (the
// fault windows are fixed, so running them one after another would only cost time),
// and each reports as its own subtest.
func TestRunSyncRecoversFromFaults(t *testing.T) {
	cases := []faultCase{
		{name: "synccheck_502", fault: wxsim.Fault{Endpoint: "synccheck", Kind: "http_status", Value: 502}, fails: true},
		{name: "webwxsync_503", fault: wxsim.Fault{Endpoint: "webwxsync", Kind: "http_status", Value: 503}, fails: true},
		{name: "synccheck_reset", fault: wxsim.Fault{Endpoint: "synccheck", Kind: "reset"}, fails: true},
		{name: "webwxsync_reset", fault: wxsim.Fault{Endpoint: "webwxsync", Kind: "reset"}, fails: true},
		{name: "synccheck_hang", fault: wxsim.Fault{Endpoint: "synccheck", Kind: "hang"}}, // a long poll timing out is "nothing new"
		{name: "webwxsync_hang", fault: wxsim.Fault{Endpoint: "webwxsync", Kind: "hang"}, fails: true},
		{name: "delay", fault: wxsim.Fault{Endpoint: "*", Kind: "delay", Value: 150}},
		{name: "synccheck_bad_status", fault: wxsim.Fault{Endpoint: "synccheck", Kind: "bad_status"}, fails: true},
		{name: "webwxsync_bad_status", fault: wxsim.Fault{Endpoint: "webwxsync", Kind: "bad_status"}, fails: true},
		{name: "synccheck_1205", fault: wxsim.Fault{Endpoint: "synccheck", Kind: "retcode", Value: 1205}, fails: true},
		{name: "webwxsync_1205", fault: wxsim.Fault{Endpoint: "webwxsync", Kind: "retcode", Value: 1205}, fails: true},
		{name: "empty_synckey", fault: wxsim.Fault{Endpoint: "webwxsync", Kind: "empty_synckey"}},
		{name: "duplicate", fault: wxsim.Fault{Endpoint: "webwxsync", Kind: "duplicate"}},
	}
	// Setup needs t (Fatal, Cleanup), so it runs here, one case after the other.
	for i := range cases {
		tc := &cases[i]
		tc.e = newEnv(t, func(s *wxsim.Settings) { s.SynccheckHoldMS, s.LoginPollHoldMS = 200, 20 })
		// Log in with the default timeouts, sync with short ones so that a hang costs
		// little.
		login := tc.e.client()
		tc.e.qrLogin(login, "wxid_alice")
		tc.c = tc.e.client(func(o *protoclient.Options) {
			o.LongPollTimeout = time.Second
			o.APITimeout = time.Second
		})
		if err := tc.c.Restore(login.Session()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range cases {
		wg.Go(func() { cases[i].run() })
	}
	wg.Wait()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Log(tc.report)
			for _, err := range tc.errs {
				t.Error(err)
			}
		})
	}
}

const (
	faultMinBackoff = 10 * time.Millisecond
	faultMaxBackoff = 100 * time.Millisecond
	faultWindow     = time.Second
	faultMessages   = 5
	// A loop that backs off fails at most about once per faultMaxBackoff, two
	// requests each (synccheck and webwxsync), plus the doubling steps up to the cap
	// and the rounds that succeed. A tight loop against a local server makes hundreds
	// to thousands; the old back-off, reset by every synccheck, made 168.
	faultRequestBound = int64(2*(faultWindow/faultMaxBackoff) + 30)
)

type faultCase struct {
	name  string
	fault wxsim.Fault
	fails bool // RunSync must report SyncRetrying

	e      *env
	c      *protoclient.Client
	report string
	errs   []error
}

func (tc *faultCase) errorf(format string, args ...any) {
	tc.errs = append(tc.errs, fmt.Errorf(format, args...))
}

// run is one case, off the test goroutine: it records errors instead of failing.
func (tc *faultCase) run() {
	e := tc.e
	want := []string{"before"}
	for i := range faultMessages {
		want = append(want, fmt.Sprintf("during %d", i))
	}
	want = append(want, "after")
	col := newCollector(want...)
	var mu sync.Mutex
	var states []protoclient.SyncState
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() {
		done <- tc.c.RunSync(ctx, col.handle, protoclient.SyncOptions{
			MinBackoff: faultMinBackoff, MaxBackoff: faultMaxBackoff,
			OnState: func(s protoclient.SyncState, _ error) { mu.Lock(); states = append(states, s); mu.Unlock() },
		})
	}()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			tc.errorf("RunSync ended with %v", err)
		}
	})
	defer stop()
	send := func(text string) bool {
		if _, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 1, Content: text}); err != nil {
			tc.errorf("send %q: %v", text, err)
			return false
		}
		return true
	}
	wait := func(text string) bool {
		col.mu.Lock()
		ch, ok := col.want[text]
		col.mu.Unlock()
		if ok {
			select {
			case <-ch:
			case <-e.ctx.Done():
				tc.errorf("%q never arrived", text)
				return false
			}
		}
		return true
	}
	if !send("before") || !wait("before") {
		return
	}

	if err := e.ctl.ResetStats(e.ctx); err != nil {
		tc.errorf("reset stats: %v", err)
		return
	}
	start := time.Now()
	f := tc.fault
	f.Account = "wxid_alice"
	if _, err := e.ctl.AddFault(e.ctx, f); err != nil {
		tc.errorf("add fault: %v", err)
		return
	}
	for i := range faultMessages {
		if !send(fmt.Sprintf("during %d", i)) {
			return
		}
	}
	// The fault stands for a fixed window in which the requests are counted.
	select {
	case <-time.After(faultWindow - time.Since(start)):
	case <-e.ctx.Done():
		tc.errorf("timed out")
		return
	}
	st, err := e.ctl.Stats(e.ctx)
	elapsed := time.Since(start)
	if err == nil {
		err = e.ctl.ClearFaults(e.ctx)
	}
	if err != nil {
		tc.errorf("stats: %v", err)
		return
	}
	n := st.Requests["synccheck"] + st.Requests["webwxsync"]
	tc.report = fmt.Sprintf("%d requests (synccheck %d, webwxsync %d) in %v of fault, bound %d",
		n, st.Requests["synccheck"], st.Requests["webwxsync"], elapsed.Round(time.Millisecond), faultRequestBound)
	if n > faultRequestBound {
		tc.errorf("%s: no back-off", tc.report)
	}

	if !send("after") {
		return
	}
	for _, w := range want {
		if !wait(w) {
			return
		}
	}
	col.mu.Lock()
	count := map[string]int{}
	for _, s := range col.texts {
		count[s]++
	}
	for _, w := range want {
		if count[w] != 1 {
			tc.errorf("%q delivered %d times", w, count[w])
		}
	}
	for id, k := range col.ids {
		if k != 1 {
			tc.errorf("MsgId %s delivered %d times", id, k)
		}
	}
	col.mu.Unlock()
	stop()
	mu.Lock()
	defer mu.Unlock()
	retried := false
	for _, s := range states {
		retried = retried || s == protoclient.SyncRetrying
	}
	if (tc.fails && !retried) || len(states) == 0 || states[len(states)-1] != protoclient.SyncConnected {
		tc.errorf("states %v: want retrying=%v, ending connected", states, tc.fails)
	}
}
