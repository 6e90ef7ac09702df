package protoclient_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
	"wxbridge/protoclient/wxsim/wxsimtest"
)

// These tests run the client against wxsim in-process, the way the bridge uses it.

type env struct {
	t   *testing.T
	sim *wxsim.Server
	ts  *httptest.Server
	ctl *wxsim.Control
	ctx context.Context
}

func newEnv(t *testing.T, tweak func(*wxsim.Settings)) *env {
	t.Helper()
	srv := wxsimtest.New(t, tweak)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	e := &env{t: t, sim: srv.Sim, ts: srv.TS, ctl: srv.Ctl, ctx: ctx}
	e.must(e.ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: "wxid_alice", Nickname: "Alice", Uin: 1001, Host: "wx2.qq.com"}))
	e.must(e.ctl.AddContact(ctx, "wxid_alice", wxsim.ContactSpec{Wxid: "wxid_bob", Nickname: ptr("Bob")}))
	e.must(e.ctl.CreateGroup(ctx, "wxid_alice", wxsim.GroupSpec{ID: "12345@chatroom", Name: "Family",
		Members: []string{"wxid_bob", "wxid_carol"}, DisplayNames: map[string]string{"wxid_bob": "Uncle Bob"}}))
	return e
}

func ptr[T any](v T) *T { return &v }

func (e *env) must(v ...any) {
	e.t.Helper()
	if err, ok := v[len(v)-1].(error); ok && err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) client(opts ...func(*protoclient.Options)) *protoclient.Client {
	e.t.Helper()
	o := protoclient.Options{ServerURL: e.ts.URL, HTTPClient: e.ts.Client(), LongPollTimeout: 5 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	c, err := protoclient.New(o)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// qrLogin runs the whole QR flow as a user would: the client shows a QR code, the phone
// scans it (201 with the avatar), the user confirms (200), the client completes login.
func (e *env) qrLogin(c *protoclient.Client, wxid string) *protoclient.InitResponse {
	e.t.Helper()
	init, err := c.CompleteLogin(e.ctx, e.confirmedRedirect(c, wxid))
	if err != nil {
		e.t.Fatal(err)
	}
	return init
}

// confirmedRedirect runs the QR flow up to the confirmed poll and returns its
// redirect_uri.
func (e *env) confirmedRedirect(c *protoclient.Client, wxid string) string {
	e.t.Helper()
	uuid, err := c.NewQRLogin(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if res, err := c.PollLogin(e.ctx, uuid, 1); err != nil || res.Code != protoclient.LoginWaiting {
		e.t.Fatalf("first poll before scan: %+v %v", res, err)
	}
	e.must(e.ctl.Scan(e.ctx, uuid, wxid))
	res, err := c.PollLogin(e.ctx, uuid, 0)
	if err != nil || res.Code != protoclient.LoginScanned || res.UserAvatar == "" {
		e.t.Fatalf("poll after scan: %+v %v", res, err)
	}
	e.must(e.ctl.Confirm(e.ctx, uuid))
	res, err = c.PollLogin(e.ctx, uuid, 0)
	if err != nil || res.Code != protoclient.LoginConfirmed {
		e.t.Fatalf("poll after confirm: %+v %v", res, err)
	}
	return res.RedirectURI
}

// syncUntil syncs and commits until pred has seen what it wants.
func (e *env) syncUntil(c *protoclient.Client, pred func(*protoclient.SyncBatch) bool) {
	e.t.Helper()
	for i := 0; i < 20; i++ {
		if _, err := c.SyncCheck(e.ctx); err != nil {
			e.t.Fatal(err)
		}
		b, err := c.Sync(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		c.Commit(b)
		if pred(b) {
			return
		}
	}
	e.t.Fatal("sync never delivered what the test waited for")
}

func texts(b *protoclient.SyncBatch) []string {
	var out []string
	for _, ev := range b.Events {
		if x, ok := ev.Content.(*protoclient.Text); ok {
			out = append(out, x.Text)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestQRLoginUsesAssignedHostFamily(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.CheckHost = true })
	c := e.client()
	init := e.qrLogin(c, "wxid_alice")
	if init.User.NickName != "Alice" || int64(init.User.Uin) != 1001 || init.User.UserName == "" {
		t.Fatalf("init user = %+v", init.User)
	}
	want := protoclient.Hosts{Login: "login.wx2.qq.com", Web: "wx2.qq.com", Push: "webpush.wx2.qq.com", File: "file.wx2.qq.com"}
	if c.Hosts() != want {
		t.Fatalf("hosts = %+v, want %+v", c.Hosts(), want)
	}
	// With check_host on, wxsim answers 1100 to any request on the wrong host family;
	// a working synccheck and contact list prove the client stays on wx2.qq.com.
	if res, err := c.SyncCheck(e.ctx); err != nil || res.Retcode != 0 {
		t.Fatalf("synccheck: %+v %v", res, err)
	}
	contacts, err := c.GetContacts(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(contacts) == 0 {
		t.Fatal("no contacts")
	}
	acct, err := e.ctl.Account(e.ctx, "wxid_alice")
	if err != nil || !acct.LoggedIn || acct.UserName != string(c.SelfUserName()) {
		t.Fatalf("wxsim account = %+v %v; client self = %q", acct, err, c.SelfUserName())
	}
}

func TestLoginRefusedAndQRStates(t *testing.T) {
	e := newEnv(t, func(s *wxsim.Settings) { s.LoginForbidden = true })
	c := e.client()
	uuid, err := c.NewQRLogin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.must(e.ctl.Scan(e.ctx, uuid, "wxid_alice"))
	e.must(e.ctl.Confirm(e.ctx, uuid))
	res, err := c.PollLogin(e.ctx, uuid, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteLogin(e.ctx, res.RedirectURI)
	var refused *protoclient.LoginRefusedError
	if !errors.As(err, &refused) || refused.Ret != 1203 || refused.Message == "" {
		t.Fatalf("CompleteLogin with login_forbidden: %v, want LoginRefusedError 1203 with the server's message", err)
	}

	uuid, err = c.NewQRLogin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.must(e.ctl.Expire(e.ctx, uuid))
	if _, err := c.PollLogin(e.ctx, uuid, 1); !errors.Is(err, protoclient.ErrQRExpired) {
		t.Fatalf("expired QR: %v", err)
	}
	uuid, err = c.NewQRLogin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.must(e.ctl.Scan(e.ctx, uuid, "wxid_alice"))
	e.must(e.ctl.Cancel(e.ctx, uuid))
	if _, err := c.PollLogin(e.ctx, uuid, 0); !errors.Is(err, protoclient.ErrQRCancelled) {
		t.Fatalf("cancelled QR: %v", err)
	}
}

// A session saved as JSON and restored in a new client (a restarted process) resumes
// without a QR scan, delivers what arrived meanwhile, and replays nothing already
// committed.
func TestSessionRestoreResumesWithoutReplay(t *testing.T) {
	e := newEnv(t, nil)
	c1 := e.client()
	e.qrLogin(c1, "wxid_alice")
	first, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 1, Content: "before restart"})
	if err != nil {
		t.Fatal(err)
	}
	e.syncUntil(c1, func(b *protoclient.SyncBatch) bool { return contains(texts(b), "before restart") })
	saved, err := c1.Session().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sessions := func() int {
		a, err := e.ctl.Account(e.ctx, "wxid_alice")
		if err != nil {
			t.Fatal(err)
		}
		return a.Sessions
	}
	before := sessions()

	if _, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 1, Content: "while down"}); err != nil {
		t.Fatal(err)
	}
	restored, err := protoclient.UnmarshalSession(saved)
	if err != nil {
		t.Fatal(err)
	}
	c2 := e.client()
	if err := c2.Restore(restored); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Resume(e.ctx); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if after := sessions(); after != before {
		t.Fatalf("resume created a new server session (%d → %d): it was a new login, not a resume", before, after)
	}
	var got []string
	var ids []string
	e.syncUntil(c2, func(b *protoclient.SyncBatch) bool {
		got = append(got, texts(b)...)
		for _, m := range b.Messages {
			ids = append(ids, m.MsgId)
		}
		return contains(got, "while down")
	})
	if contains(got, "before restart") || contains(ids, first.MsgID) {
		t.Fatalf("restored session replayed a committed message: %v", got)
	}
}

// Until the caller commits, the same batch comes again: a crash between receiving and
// storing loses nothing.
func TestUncommittedBatchIsReplayed(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.qrLogin(c, "wxid_alice")
	e.syncUntil(c, func(b *protoclient.SyncBatch) bool { return true }) // drain init notices
	ref, err := e.ctl.Incoming(e.ctx, "wxid_alice", wxsim.WorldMessage{From: "wxid_bob", Type: 1, Content: "once & <twice>?"})
	if err != nil {
		t.Fatal(err)
	}
	var b1 *protoclient.SyncBatch
	for b1 == nil || len(b1.Messages) == 0 {
		if b1, err = c.Sync(e.ctx); err != nil {
			t.Fatal(err)
		}
		if len(b1.Messages) == 0 {
			c.Commit(b1)
		}
	}
	b2, err := c.Sync(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(b2.Messages) != len(b1.Messages) || b2.Messages[0].MsgId != ref.MsgID {
		t.Fatalf("uncommitted batch not replayed: first %d messages, second %d", len(b1.Messages), len(b2.Messages))
	}
	if got := texts(b2); !contains(got, "once & <twice>?") {
		t.Fatalf("decoded text = %q", got)
	}
	c.Commit(b2)
	b3, err := c.Sync(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range b3.Messages {
		if m.MsgId == ref.MsgID {
			t.Fatal("committed message delivered again")
		}
	}
}
