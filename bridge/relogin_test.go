package bridge

import (
	"fmt"
	"strings"
	"testing"
	"time"

	up "go.mau.fi/util/configupgrade"
	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/status"

	"wxbridge/protoclient"
)

// A session WeChat ends soon after its login is refused (no push login); later, or
// with the window off, or without a WeChat logout code, it expired.
func TestClassifySessionEnd(t *testing.T) {
	login := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	kicked := func(code int, endpoint string) error {
		return &protoclient.LoggedOutError{Retcode: code, Endpoint: endpoint}
	}
	for _, tc := range []struct {
		name       string
		loggedInAt time.Time
		after      time.Duration
		window     time.Duration
		err        error
		refused    bool
		retcode    int
		afterLogin time.Duration
	}{
		{"synccheck 1102 three seconds after login", login, 3 * time.Second, 10 * time.Minute, kicked(1102, "synccheck"), true, 1102, 3 * time.Second},
		{"webwxinit Ret 1101 at once", login, 0, 10 * time.Minute, kicked(1101, "webwxinit"), true, 1101, 0},
		{"wrapped Ret 1100 from an API", login, time.Minute, 10 * time.Minute, fmt.Errorf("send: %w", kicked(1100, "webwxsendmsg")), true, 1100, time.Minute},
		{"just inside the window", login, 10*time.Minute - time.Millisecond, 10 * time.Minute, kicked(1102, "synccheck"), true, 1102, 10*time.Minute - time.Millisecond},
		{"at the window's end", login, 10 * time.Minute, 10 * time.Minute, kicked(1102, "synccheck"), false, 1102, 10 * time.Minute},
		{"a day later", login, 24 * time.Hour, 10 * time.Minute, kicked(1101, "synccheck"), false, 1101, 24 * time.Hour},
		{"window 0 turns the distinction off", login, time.Second, 0, kicked(1102, "synccheck"), false, 1102, time.Second},
		{"short window, ended after it", login, 9 * time.Second, 8 * time.Second, kicked(1101, "synccheck"), false, 1101, 9 * time.Second},
		{"no stored session is not WeChat's doing", login, time.Second, 10 * time.Minute, protoclient.ErrNotLoggedIn, false, 0, time.Second},
		{"login time unknown (stored before it was recorded)", time.Time{}, 0, 10 * time.Minute, kicked(1102, "synccheck"), false, 1102, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classifySessionEnd(tc.loggedInAt, login.Add(tc.after), tc.window, tc.err)
			want := sessionEnd{Refused: tc.refused, Retcode: tc.retcode, AfterLogin: tc.afterLogin}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// Automatic push logins: at most one per interval; 0 means no limit.
func TestMayAutoRelogin(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		last     time.Time
		interval time.Duration
		want     bool
	}{
		{time.Time{}, 6 * time.Hour, true},
		{now.Add(-time.Hour), 6 * time.Hour, false},
		{now.Add(-6*time.Hour + time.Second), 6 * time.Hour, false},
		{now.Add(-6 * time.Hour), 6 * time.Hour, true},
		{now.Add(-time.Second), 0, true},
	} {
		if got := mayAutoRelogin(tc.last, now, tc.interval); got != tc.want {
			t.Errorf("last %s, interval %s: got %v, want %v", now.Sub(tc.last), tc.interval, got, tc.want)
		}
	}
}

// What the user reads: the notice after a refusal, the QR step after two refusals in a
// day, and the bridge state pushed to the status endpoint.
func TestRefusedSessionTexts(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	end := sessionEnd{Refused: true, Retcode: 1102, AfterLogin: 2600 * time.Millisecond}
	n := refusedNotice(end, 2)
	for _, want := range []string{"3 seconds after login", "(error 1102)", "Since January 2025", "restricted",
		"will not log in again by itself", "send `login`", "2 times for this account in the last 24 hours", limitsURL} {
		if !strings.Contains(n, want) {
			t.Errorf("notice %q does not say %q", n, want)
		}
	}
	if n := refusedNotice(sessionEnd{Refused: true, Retcode: 1101, AfterLogin: -1}, 0); !strings.Contains(n, "right after login (error 1101)") || strings.Contains(n, "times") {
		t.Errorf("notice without login time or count: %q", n)
	}

	login := func(refusals ...time.Duration) *bridgev2.UserLogin {
		meta := &UserLoginMetadata{}
		for _, ago := range refusals {
			meta.Refusals = append(meta.Refusals, now.Add(-ago))
		}
		return &bridgev2.UserLogin{UserLogin: &database.UserLogin{Metadata: meta}}
	}
	if w := refusalWarning([]*bridgev2.UserLogin{login(time.Hour)}, now); w != "" {
		t.Errorf("one refusal: warning %q, want none", w)
	}
	if w := refusalWarning([]*bridgev2.UserLogin{login(25*time.Hour, time.Hour)}, now); w != "" {
		t.Errorf("one refusal in the last day and one before: warning %q, want none", w)
	}
	w := refusalWarning([]*bridgev2.UserLogin{login(), login(3*time.Hour, time.Hour)}, now)
	if !strings.Contains(w, "WeChat refused 2 web sessions of this account in the last 24 hours") || strings.Count(w, ".") != 1 {
		t.Errorf("two refusals: warning %q, want one sentence naming 2", w)
	}

	st := refusedState([]time.Time{now.Add(-time.Hour), now}, end)
	if st.StateEvent != status.StateBadCredentials || st.Error != StateSessionRefused ||
		st.Info["refused_sessions_24h"] != 2 || st.Info["seconds_after_login"] != 3 || st.Info["retcode"] != 1102 {
		t.Errorf("bridge state %+v", st)
	}
	if human := status.BridgeStateHumanErrors[StateSessionRefused]; !strings.Contains(human, "send `login`") {
		t.Errorf("no human text for %s: %q", StateSessionRefused, human)
	}

	// After a restart the login reports the same state without asking WeChat.
	meta := &UserLoginMetadata{LoggedInAt: now.Add(-time.Minute), Refusals: []time.Time{now.Add(-30 * time.Hour), now.Add(-50 * time.Second)},
		Ended: &EndedSession{At: now.Add(-50 * time.Second), State: StateSessionRefused, Retcode: 1102}}
	if st := meta.endedState(now); st.Error != StateSessionRefused || st.Info["refused_sessions_24h"] != 1 || st.Info["seconds_after_login"] != 10 {
		t.Errorf("refused state after a restart %+v", st)
	}
	meta.Ended.State = StateLoggedOut
	if st := meta.endedState(now); st.StateEvent != status.StateBadCredentials || st.Error != StateLoggedOut {
		t.Errorf("expired state after a restart %+v", st)
	}
}

// A re-login of the same account takes the new session and its login time, forgets how
// the old one ended, and keeps the refusals and the last push login.
func TestMetadataCopyFromKeepsHistory(t *testing.T) {
	now := time.Now()
	old := &UserLoginMetadata{Session: &protoclient.Session{Uin: 1}, LoggedInAt: now.Add(-time.Hour),
		Ended: &EndedSession{At: now, State: StateSessionRefused}, Refusals: []time.Time{now}, LastAutoRelogin: now.Add(-time.Minute)}
	fresh := &UserLoginMetadata{Session: &protoclient.Session{Uin: 1, Skey: "new"}, LoggedInAt: now}
	old.CopyFrom(fresh)
	if old.Session != fresh.Session || !old.LoggedInAt.Equal(now) || old.Ended != nil || len(old.Refusals) != 1 || old.LastAutoRelogin.IsZero() {
		t.Errorf("after CopyFrom: %+v", old)
	}
}

// The two keys as users write them: durations, a bare 0, or left out (the defaults).
func TestSessionConfigKeys(t *testing.T) {
	for _, tc := range []struct {
		user             string
		window, interval time.Duration
	}{
		{"", 10 * time.Minute, 6 * time.Hour},
		{"early_logout_window: 0\nauto_relogin_interval: 90m\n", 0, 90 * time.Minute},
		{"early_logout_window: 8s\nauto_relogin_interval: 0s\n", 8 * time.Second, 0},
	} {
		var base, cfg yaml.Node
		if err := yaml.Unmarshal([]byte(ExampleConfig), &base); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal([]byte("server_url: x\n"+tc.user), &cfg); err != nil {
			t.Fatal(err)
		}
		upgradeConfig(up.NewHelper(&base, &cfg))
		var c Config
		if err := base.Decode(&c); err != nil {
			t.Fatalf("%q: %v", tc.user, err)
		}
		if err := c.parse(); err != nil {
			t.Fatalf("%q: %v", tc.user, err)
		}
		if c.EarlyLogoutWindow != tc.window || c.AutoReloginInterval != tc.interval {
			t.Errorf("%q: window %s interval %s, want %s %s", tc.user, c.EarlyLogoutWindow, c.AutoReloginInterval, tc.window, tc.interval)
		}
	}
	bad := Config{DisplaynameTemplate: "x", GroupNameTemplate: "x", OfficialAccounts: OfficialAccountsRoom, Media: MediaConfig{1, 1}, EarlyLogoutWindow: -time.Second}
	if err := bad.parse(); err == nil || !strings.Contains(err.Error(), "early_logout_window") {
		t.Errorf("a negative window: %v", err)
	}
}
