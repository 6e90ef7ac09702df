//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/bridgev2/status"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// TestRefusedSession (issue 12) plays the WeChat of 2025–2026 against the second bridge
// (its status endpoint shows the bridge states; the test restarts it with other settings):
//  1. WeChat ends the session 2 s after login (wxsim logout_after_login_ms): the bot
//     explains, the status endpoint gets wechat-web-session-refused, and no push login is
//     asked of the phone, then or in the 30 s after;
//  2. `login` again, refused again: the notice counts 2; after a restart (not resumed:
//     no webwxinit) the next QR step names the 2 refusals before the code, and the login
//     is not blocked;
//  3. with early_logout_window 8s, a session that ends after the window gets exactly one
//     push login; a second end within auto_relogin_interval, after another restart, gets
//     a notice and none.
func TestRefusedSession(t *testing.T) {
	e := loadEnv(t)
	ops := loadOpsEnv(t)
	ctx := t.Context()
	const (
		me      = "wxid_rhea"
		uin     = 6006
		loginID = "6006"
	)
	a := &afternoon{e: e, ctl: &wxsim.Control{BaseURL: e.wxsimURL}, bot: id.NewUserID("wechatopsbot", e.server)}

	cfg := filepath.Join(ops.dir, "config.yaml")
	orig, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(cfg, orig, 0o600) })
	configure := func(window string) {
		t.Helper()
		if err := harness.EditConfig(cfg,
			harness.Setting{Path: "network.early_logout_window", Value: window},
			harness.Setting{Path: "network.auto_relogin_interval", Value: "6h"}); err != nil {
			t.Fatal(err)
		}
	}
	states := serveBridgeStates(t, ops.statusAddr)
	serveBehindPrefix(t, ops.proxyAddr, "http://127.0.0.1:"+ops.port)
	readyURL := "http://" + ops.proxyAddr + proxyPrefix + "/_matrix/mau/ready"
	configure("10m")
	stop := startOpsBridge(t, e, ops, readyURL)
	restart := func(window string) {
		t.Helper()
		stop()
		configure(window)
		stop = startOpsBridge(t, e, ops, readyURL)
	}

	setLogoutAfter := func(ms int) {
		t.Helper()
		if _, err := a.ctl.Settings(ctx, map[string]any{"logout_after_login_ms": ms}); err != nil {
			t.Fatal(err)
		}
	}
	setLogoutAfter(2000)
	t.Cleanup(func() {
		// t.Context() is already done here; the next tests must not inherit the setting.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := a.ctl.Settings(cctx, map[string]any{"logout_after_login_ms": 0}); err != nil {
			t.Errorf("wxsim's logout_after_login_ms is still set for the next tests: %v", err)
		}
	})

	if _, err := a.ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: me, Nickname: "Rhea", Uin: uin, Host: "wx2.qq.com"}); err != nil {
		t.Fatal(err)
	}
	u := registerUser(ctx, t, e.hsURL, "rhea", matrixPass)
	a.alice = u
	a.bind(t)
	dm := a.openBotDM(t, u)
	botSays := func(substr string) func(*harness.Seen) bool {
		return harness.And(harness.InRoom(dm), harness.FromSender(a.bot), func(s *harness.Seen) bool { return s.IsMessage() && strings.Contains(s.Body(), substr) })
	}
	refusedState := func(count float64) func(pushedState) bool {
		return func(s pushedState) bool {
			return s.StateEvent == status.StateBadCredentials && s.Error == "wechat-web-session-refused" &&
				string(s.RemoteID) == loginID && s.Info["refused_sessions_24h"] == count
		}
	}
	// Push logins the bridge asks of the phone: none may follow a refusal.
	pushBefore := a.wxRequests(t, "webwxpushloginurl")
	var firstNotice, sessionStart time.Time
	provision := func(method, path string, body, out any) error {
		pctx, cancel := context.WithTimeout(ctx, waitLogin)
		defer cancel()
		return provisionAt(pctx, "http://"+ops.proxyAddr+proxyPrefix, ops.secret, u.ID(), method, path, body, out)
	}

	if !run(t, "1_refused_is_not_retried", func(t *testing.T) {
		from, mx := states.Mark(), u.Mark()
		a.loginWithQR(t, u, dm, me, false)
		loggedIn := time.Now()
		if u.Find(mx, botSays("has restricted accounts that kept trying: https://")) == nil {
			t.Errorf("the first QR step did not carry the sentence about the risk with the README link")
		}
		st := states.await(t, from, "BAD_CREDENTIALS wechat-web-session-refused (1 in 24 h)", refusedState(1))
		t.Logf("bridge state: %s %s %q info %v", st.StateEvent, st.Error, st.Message, st.Info)
		n := u.Must(ctx, 30*time.Second, mx, "the bot explaining the refused session", botSays("ended your web session"))
		firstNotice = time.Now()
		t.Logf("bot, %.1f s after the login: %q", firstNotice.Sub(loggedIn).Seconds(), n.Body())
		for _, want := range []string{"seconds after login (error 1102)", "Since January 2025", "will not log in again by itself",
			"send `login`", "1 time for this account in the last 24 hours"} {
			if !strings.Contains(n.Body(), want) {
				t.Errorf("the notice does not say %q", want)
			}
		}
		if got := a.wxRequests(t, "webwxpushloginurl"); got != pushBefore {
			t.Errorf("the bridge asked the phone for %d push login(s) after a refused session, want none", got-pushBefore)
		}
	}, u) {
		return
	}

	if !run(t, "2_counted_across_a_restart_and_named_at_the_next_QR", func(t *testing.T) {
		from, mx := states.Mark(), u.Mark()
		a.loginWithQR(t, u, dm, me, false)
		states.await(t, from, "BAD_CREDENTIALS wechat-web-session-refused (2 in 24 h)", refusedState(2))
		n := u.Must(ctx, 30*time.Second, mx, "the second refusal notice", botSays("ended your web session"))
		if !strings.Contains(n.Body(), "2 times for this account in the last 24 hours") {
			t.Errorf("the second notice does not count 2: %q", n.Body())
		}
		if w := whoami(t, provision); len(w.Logins) != 1 || w.Logins[0].State.Info["refused_sessions_24h"] != float64(2) {
			t.Errorf("whoami: %+v; want the login with refused_sessions_24h 2", w.Logins)
		}

		// The no-retry window of the issue: 30 s after the first notice, still no push login.
		for time.Since(firstNotice) < 30*time.Second {
			if got := a.wxRequests(t, "webwxpushloginurl"); got != pushBefore {
				t.Fatalf("%d push login(s) within 30 s of a refused session, want none", got-pushBefore)
			}
			time.Sleep(500 * time.Millisecond)
		}

		// A restart: the ended session is not tried again, the state stays, and so do the
		// counts. Next, sessions are not ended by wxsim, and the window is short (step 3).
		setLogoutAfter(0)
		inits := a.wxRequests(t, "webwxinit")
		from = states.Mark()
		restart("8s")
		states.await(t, from, "the refused state again after the restart", refusedState(2))
		if got := a.wxRequests(t, "webwxinit"); got != inits {
			t.Errorf("the restarted bridge called webwxinit %d time(s) with a session WeChat had ended", got-inits)
		}
		from, mx = states.Mark(), u.Mark()
		a.loginWithQR(t, u, dm, me, false)
		sessionStart = time.Now()
		states.await(t, from, "CONNECTED: a manual login is never blocked", func(s pushedState) bool {
			return s.StateEvent == status.StateConnected && string(s.RemoteID) == loginID
		})
		warn := u.Find(mx, botSays("WeChat refused 2 web sessions of this account in the last 24 hours"))
		if warn == nil || !strings.Contains(warn.Body(), "Scan this QR code") {
			t.Errorf("the QR step after two refusals does not name them before the code (instructions: %v)", warn)
		}
	}, u) {
		return
	}

	// 3. The session of step 2's last login is not ended by wxsim. Each end below must come
	// after the 8 s window, which only the passing of time can give: the test waits for it.
	afterWindow := func(loggedIn time.Time) { time.Sleep(time.Until(loggedIn.Add(9 * time.Second))) }
	run(t, "3_expired_gets_one_push_login_per_interval", func(t *testing.T) {
		afterWindow(sessionStart)

		push0 := a.wxRequests(t, "webwxpushloginurl")
		sf, mx := states.Mark(), u.Mark()
		if err := a.ctl.Logout(ctx, me, 1101); err != nil {
			t.Fatal(err)
		}
		st := states.await(t, sf, "BAD_CREDENTIALS wechat-logged-out after the window", func(s pushedState) bool {
			return s.StateEvent == status.StateBadCredentials && string(s.RemoteID) == loginID
		})
		if st.Error != "wechat-logged-out" {
			t.Errorf("a session ended after the window got %s, want wechat-logged-out", st.Error)
		}
		u.Must(ctx, waitLogin, mx, "the bot asking to confirm the login on the phone", botSays("confirm a new login"))
		if got := a.wxRequests(t, "webwxpushloginurl"); got != push0+1 {
			t.Errorf("%d push logins after a session ended after the window, want 1", got-push0)
		}
		sf = states.Mark()
		if _, err := a.ctl.PushLoginConfirm(ctx, me); err != nil {
			t.Fatalf("confirm the push login on the phone: %v", err)
		}
		u.Must(ctx, waitLogin, mx, "the bot saying it is logged in again", botSays("Logged in to WeChat again"))
		adopted := time.Now()
		states.await(t, sf, "CONNECTED after the push login", func(s pushedState) bool {
			return s.StateEvent == status.StateConnected && string(s.RemoteID) == loginID
		})

		// The interval is kept with the login: a restart does not reset it.
		sf = states.Mark()
		restart("8s")
		states.await(t, sf, "CONNECTED after the restart (the session resumed)", func(s pushedState) bool {
			return s.StateEvent == status.StateConnected && string(s.RemoteID) == loginID
		})
		afterWindow(adopted)
		sf, mx = states.Mark(), u.Mark()
		if err := a.ctl.Logout(ctx, me, 1101); err != nil {
			t.Fatal(err)
		}
		states.await(t, sf, "BAD_CREDENTIALS after the second end", func(s pushedState) bool {
			return s.StateEvent == status.StateBadCredentials && s.Error == "wechat-logged-out" && string(s.RemoteID) == loginID
		})
		n := u.Must(ctx, waitLogin, mx, "the bot saying it does not ask again so soon", botSays("does not ask again so soon"))
		t.Logf("bot: %q", n.Body())
		if !strings.Contains(n.Body(), "less than 6 hours ago") || !strings.Contains(n.Body(), "send `login`") && !strings.Contains(n.Body(), "Send `login`") {
			t.Errorf("the notice does not name the interval and the way out: %q", n.Body())
		}
		if got := a.wxRequests(t, "webwxpushloginurl"); got != push0+1 {
			t.Errorf("%d push logins in all, want 1: the second end within auto_relogin_interval asked the phone again", got-push0)
		}
	}, u)
}
