//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/bridgev2/status"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
	prov "wxbridge/test/provision"
)

// The paths of the deployment this test plays: the bridge under a prefix of a reverse
// proxy, and a bridge-state receiver under a path of its own.
const (
	proxyPrefix = "/wechat"
	statePath   = "/bridgestate/wechat"
)

// TestBehindReverseProxy runs a second bridge (its own appservice, prepared by
// test/e2e/run; the bridge of the other tests is not touched) the way it is deployed
// behind nginx or Caddy: a reverse proxy serves it under /wechat/ and strips the prefix
// (nginx `location /wechat/ { proxy_pass http://bridge:29350/; }`), the homeserver
// reaches it through that proxy (appservice.address http://proxy/wechat), provisioning
// clients use the same prefix, and homeserver.status_endpoint is a URL with a path.
func TestBehindReverseProxy(t *testing.T) {
	e := loadEnv(t)
	ops := loadOpsEnv(t)
	ctx := t.Context()
	const (
		me   = "wxid_otto"
		nick = "Otto"
		uin  = 5005
	)
	loginID := strconv.Itoa(uin)
	a := &afternoon{e: e, ctl: &wxsim.Control{BaseURL: e.wxsimURL}, bot: id.NewUserID("wechatopsbot", e.server)}

	states := serveBridgeStates(t, ops.statusAddr)
	proxy := serveBehindPrefix(t, ops.proxyAddr, "http://127.0.0.1:"+ops.port)
	base := "http://" + ops.proxyAddr + proxyPrefix
	startOpsBridge(t, e, ops, base+"/_matrix/mau/ready")

	if _, err := a.ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: me, Nickname: nick, Uin: uin, Host: "wx2.qq.com"}); err != nil {
		t.Fatal(err)
	}
	const friend = "wxid_opal"
	if _, err := a.ctl.AddContact(ctx, me, wxsim.ContactSpec{Wxid: friend, Nickname: new("Opal")}); err != nil {
		t.Fatal(err)
	}
	u := registerUser(ctx, t, e.hsURL, "otto", matrixPass)
	provision := func(method, path string, body, out any) error {
		pctx, cancel := context.WithTimeout(ctx, waitLogin)
		defer cancel()
		return provisionAt(pctx, base, ops.secret, u.ID(), method, path, body, out)
	}
	var dm id.RoomID

	// The homeserver pushes transactions to appservice.address, the proxy's /wechat: the
	// bot can only see the invitation and join if the prefix is stripped on the way.
	if !run(t, "homeserver_reaches_the_bridge_through_the_proxy", func(t *testing.T) {
		dm = a.openBotDM(t, u)
		if !slices.ContainsFunc(proxy.requests(), func(r string) bool {
			return strings.HasPrefix(r, "PUT "+proxyPrefix+"/_matrix/app/v1/transactions/")
		}) {
			t.Errorf("the bot joined, but no transaction came through the proxy; requests: %q", proxy.requests())
		}
	}, u) {
		return
	}

	if !run(t, "whoami_through_the_proxy_before_login", func(t *testing.T) {
		w := whoami(t, provision)
		if w.BridgeBot != a.bot || w.ManagementRoom != dm || len(w.Logins) != 0 {
			t.Errorf("whoami: bridge_bot %s, management_room %s, %d logins; want %s, the bot DM %s, none",
				w.BridgeBot, w.ManagementRoom, len(w.Logins), a.bot, dm)
		}
	}, u) {
		return
	}

	// A provisioning client (an app that shows the QR code) logs in through the proxy.
	var connected pushedState
	if !run(t, "qr_login_through_the_proxy", func(t *testing.T) {
		from := states.Mark()
		got, err := prov.QRLogin(ctx, a.ctl, provision, me)
		if err != nil {
			t.Fatal(err)
		}
		if got != loginID {
			t.Fatalf("login completed as %q, want the account's Uin %s", got, loginID)
		}
		connected = states.await(t, from, "CONNECTED for the new login", func(s pushedState) bool {
			return s.StateEvent == status.StateConnected && string(s.RemoteID) == loginID
		})
		if connected.UserID != u.ID() || connected.RemoteName != nick {
			t.Errorf("CONNECTED state names user %s and account %q, want %s and %q", connected.UserID, connected.RemoteName, u.ID(), nick)
		}
		w := whoami(t, provision)
		if len(w.Logins) != 1 || string(w.Logins[0].ID) != loginID || w.Logins[0].Name != nick ||
			w.Logins[0].State.StateEvent != status.StateConnected {
			t.Errorf("whoami after the login: %+v; want login %s (%s) CONNECTED", w.Logins, loginID, nick)
		}
	}, u) {
		return
	}

	run(t, "states_carry_the_bridge_version", func(t *testing.T) {
		out, err := exec.CommandContext(ctx, e.bridge.Bin, "--version-json").Output()
		if err != nil {
			t.Fatalf("wxbridge --version-json: %v", err)
		}
		var v struct{ Commit string }
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("wxbridge --version-json: %v: %s", err, out)
		}
		ver, _ := connected.Version.(map[string]any)
		if ver["name"] != "wxbridge" || ver["commit"] != v.Commit {
			t.Errorf("state version %v, want name wxbridge and the binary's commit %q", connected.Version, v.Commit)
		}
		t.Logf("states name the build: %v", connected.Version)
	})

	// A second copy of the bridge started with the same config (a second `docker run`, a
	// service started twice) finds the appservice port taken. Without the check, mautrix would
	// log one error and run on, deaf to the homeserver, and log the same WeChat account in a
	// second time on the same database. It must refuse to start, and the first copy go on.
	run(t, "a_second_copy_refuses_to_start", func(t *testing.T) {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(sctx, e.bridge.Bin, ops.args(e)...)
		cmd.Dir = ops.dir
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 24 {
			t.Fatalf("second copy: %v (want exit code 24); output:\n%s", err, out)
		}
		if !strings.Contains(string(out), "another copy of the bridge") || !strings.Contains(string(out), "address already in use") {
			t.Errorf("second copy's output does not say why it stopped:\n%s", out)
		}
		w := whoami(t, provision)
		if len(w.Logins) != 1 || w.Logins[0].State.StateEvent != status.StateConnected {
			t.Errorf("the first copy after the second one's attempt: %+v; want the login CONNECTED", w.Logins)
		}
	})

	// WeChat's servers fail for a while (502 to every synccheck): the receiver learns the
	// connection is in trouble (TRANSIENT_DISCONNECT) and that it recovered by itself
	// (CONNECTED), with no user action.
	run(t, "wechat_unreachable_then_back", func(t *testing.T) {
		from := states.Mark()
		fid, err := a.ctl.AddFault(ctx, wxsim.Fault{Account: me, Endpoint: "synccheck", Kind: "http_status", Value: 502})
		if err != nil {
			t.Fatal(err)
		}
		removed := false
		defer func() {
			if !removed {
				_ = a.ctl.DeleteFault(context.Background(), fid)
			}
		}()
		// The loop is in a 25 s long poll that the fault does not touch: a message ends it,
		// and the next synccheck meets the fault.
		a.incomingRef(t, me, wxsim.WorldMessage{From: friend, Type: 1, Content: "are you there?"})
		trouble := states.await(t, from, "TRANSIENT_DISCONNECT while WeChat answers 502", func(s pushedState) bool {
			return s.StateEvent == status.StateTransientDisconnect && string(s.RemoteID) == loginID
		})
		if trouble.Error == "" {
			t.Errorf("TRANSIENT_DISCONNECT without an error code: %+v", trouble)
		}
		from = states.Mark()
		if err := a.ctl.DeleteFault(ctx, fid); err != nil {
			t.Fatal(err)
		}
		removed = true
		states.await(t, from, "CONNECTED once WeChat answers again", func(s pushedState) bool {
			return s.StateEvent == status.StateConnected && string(s.RemoteID) == loginID
		})
	}, u)

	// WeChat ends the session: the receiver learns that the account needs the user
	// (BAD_CREDENTIALS), the bot asks to confirm on the phone, and once confirmed the login
	// is CONNECTED again.
	if !run(t, "session_ended_by_wechat", func(t *testing.T) {
		from, mxFrom := states.Mark(), u.Mark()
		if err := a.ctl.Logout(ctx, me, 1101); err != nil {
			t.Fatal(err)
		}
		bad := states.await(t, from, "BAD_CREDENTIALS after WeChat ended the session", func(s pushedState) bool {
			return s.StateEvent == status.StateBadCredentials && string(s.RemoteID) == loginID
		})
		if bad.Error != "wechat-logged-out" || bad.Message == "" {
			t.Errorf("BAD_CREDENTIALS has error %q and message %q, want wechat-logged-out and a text for the user", bad.Error, bad.Message)
		}
		if w := whoami(t, provision); len(w.Logins) != 1 || w.Logins[0].State.StateEvent != status.StateBadCredentials {
			t.Errorf("whoami after the session ended: %+v; want the login in BAD_CREDENTIALS", w.Logins)
		}
		u.Must(ctx, waitLogin, mxFrom, "the bot asking to confirm the login on the phone",
			harness.And(harness.InRoom(dm), harness.FromSender(a.bot), func(s *harness.Seen) bool { return strings.Contains(s.Body(), "confirm a new login") }))
		from = states.Mark()
		if _, err := a.ctl.PushLoginConfirm(ctx, me); err != nil {
			t.Fatalf("confirm the login on the phone: %v", err)
		}
		states.await(t, from, "CONNECTED after the login was confirmed on the phone", func(s pushedState) bool {
			return s.StateEvent == status.StateConnected && string(s.RemoteID) == loginID
		})
	}, u) {
		return
	}

	run(t, "logout_through_the_proxy", func(t *testing.T) {
		from := states.Mark()
		if err := provision(http.MethodPost, "/v3/logout/"+url.PathEscape(loginID), map[string]any{}, nil); err != nil {
			t.Fatal(err)
		}
		states.await(t, from, "LOGGED_OUT after the logout", func(s pushedState) bool {
			return s.StateEvent == status.StateLoggedOut && string(s.RemoteID) == loginID
		})
		if w := whoami(t, provision); len(w.Logins) != 0 {
			t.Errorf("whoami after the logout still lists %+v", w.Logins)
		}
		if acct, err := a.ctl.Account(ctx, me); err != nil || acct.LoggedIn {
			t.Errorf("wxsim account after the logout: %+v, %v; want logged out on WeChat too", acct, err)
		}
	}, u)

	run(t, "every_state_went_to_the_endpoint_with_the_as_token", func(t *testing.T) {
		all, stray := states.Snapshot()
		var seq []string
		for _, s := range all {
			seq = append(seq, fmt.Sprintf("%s %s (login %s)", s.StateEvent, s.Error, s.RemoteID))
		}
		t.Logf("states pushed to %s: %s", statePath, strings.Join(seq, ", "))
		if len(stray) > 0 {
			t.Errorf("requests to the status receiver outside POST %s: %q", statePath, stray)
		}
		for i, s := range all {
			if s.Auth != "Bearer "+ops.asToken {
				// Never the header itself: it is a secret.
				t.Errorf("state %d (%s) was not authorised with the appservice's as_token", i, s.StateEvent)
			}
		}
	})
}

// opsEnv is the second bridge test/e2e/run prepared (E2E_OPS_*): its directory with
// config.yaml, registration.yaml and logs, the port it listens on, and the addresses where
// this test serves the reverse proxy and the bridge-state receiver.
type opsEnv struct {
	dir, port, proxyAddr, statusAddr string
	secret, asToken                  string
}

// args are the second bridge's command-line arguments, as for the first one.
func (o *opsEnv) args(e *env) []string {
	b := harness.Bridge{Config: filepath.Join(o.dir, "config.yaml"), Registration: filepath.Join(o.dir, "registration.yaml"),
		HomeserverKind: e.bridge.HomeserverKind}
	return b.Args()
}

func loadOpsEnv(t *testing.T) *opsEnv {
	t.Helper()
	h := suiteEnv(t)
	o := &opsEnv{dir: h.Get("OPS_DIR"), port: h.Get("OPS_PORT"), proxyAddr: h.Get("OPS_PROXY_ADDR"), statusAddr: h.Get("OPS_STATUS_ADDR")}
	var cfg struct {
		Provisioning struct {
			SharedSecret string `yaml:"shared_secret"`
		} `yaml:"provisioning"`
	}
	b, err := os.ReadFile(filepath.Join(o.dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	o.secret, o.asToken = cfg.Provisioning.SharedSecret, readRegistration(t, filepath.Join(o.dir, "registration.yaml")).ASToken
	if o.secret == "" || o.asToken == "" {
		t.Fatalf("%s: no provisioning secret or as_token", o.dir)
	}
	return o
}

// startOpsBridge starts the second bridge as a child of the test, waits until readyURL
// (through the proxy) answers 200, and stops it (SIGTERM) when the test ends, or earlier
// when the test calls the function it returns (a restart).
func startOpsBridge(t *testing.T, e *env, ops *opsEnv, readyURL string) (stop func()) {
	t.Helper()
	out, err := os.OpenFile(filepath.Join(ops.dir, "bridge.stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.bridge.Bin, ops.args(e)...)
	cmd.Dir = ops.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatal(err)
	}
	pidFile := filepath.Join(ops.dir, "bridge.pid") // test/e2e/run stops it if the test cannot
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		t.Error(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop = sync.OnceFunc(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			t.Errorf("the second bridge ignored SIGTERM for 15s; killing it")
			_ = cmd.Process.Kill()
			<-exited
		}
		out.Close()
		os.Remove(pidFile)
	})
	t.Cleanup(stop)

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitLogin)
	hc := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		resp, err := hc.Get(readyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		select {
		case <-exited:
			t.Fatalf("the second bridge exited before it was ready; see %s", out.Name())
		case <-deadline:
			t.Fatalf("the second bridge was not ready at %s within %s: %v", readyURL, waitLogin, last)
		case <-tick.C:
		}
	}
}

// prefixProxy is the reverse proxy of the test: everything under /wechat/ goes to the
// bridge without the prefix; it records the requests it saw (method and path).
type prefixProxy struct {
	mu   sync.Mutex
	seen []string
}

func serveBehindPrefix(t *testing.T, addr, target string) *prefixProxy {
	t.Helper()
	to, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	opsSink.close()
	t.Cleanup(func() { opsSink.start(t, addr) }) // runs after serve's cleanup below
	p := &prefixProxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(to)
			r.SetXForwarded()
		},
		// Like nginx: 502 while the bridge is not up yet (the ready wait retries).
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusBadGateway)
		},
	}
	mux := http.NewServeMux()
	mux.Handle(proxyPrefix+"/", http.StripPrefix(proxyPrefix, rp))
	serve(t, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	return p
}

// opsSink holds the second bridge's address between the tests that run it, and accepts
// the appservice transactions the homeserver still has for it: events of the last steps
// of a test (a logout's leaves) reach the homeserver's queue as the bridge stops. Refused,
// Dendrite backs off for up to a minute, and the next test's bridge would get its first
// events (a DM invite) only after that. No test runs the second bridge in between, so
// nothing that matters is dropped.
var opsSink sinkServer

type sinkServer struct {
	mu   sync.Mutex
	stop func() error
}

func (s *sinkServer) start(t *testing.T, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stop, err := listenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, proxyPrefix+"/_matrix/app/v1/transactions/") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, "{}")
			return
		}
		http.Error(w, "no bridge between tests", http.StatusBadGateway)
	}))
	if err != nil {
		t.Logf("no appservice sink on %s between tests: %v", addr, err)
		return
	}
	s.stop = stop
}

func (s *sinkServer) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		_ = s.stop()
		s.stop = nil
	}
}

func (p *prefixProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

// serve runs handler on addr until the test ends.
func serve(t *testing.T, addr string, handler http.Handler) {
	t.Helper()
	stop, err := listenAndServe(addr, handler)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve %s: %v", addr, err)
		}
	})
}

// listenAndServe runs handler on addr until stop, which returns what ended the server
// other than stop itself.
func listenAndServe(addr string, handler http.Handler) (stop func() error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	ended := make(chan error, 1)
	go func() { ended <- srv.Serve(ln) }()
	return func() error {
		srv.Close()
		if err := <-ended; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, nil
}

// stateReceiver is the service behind homeserver.status_endpoint (harness.BridgeStates)
// with the waits these tests make: each fails the test after waitLogin.
type stateReceiver struct{ *harness.BridgeStates }

type pushedState = harness.PushedState

func serveBridgeStates(t *testing.T, addr string) stateReceiver {
	t.Helper()
	s := stateReceiver{harness.NewBridgeStates(statePath)}
	serve(t, addr, s)
	return s
}

// await waits for a state after the first from that matches.
func (s stateReceiver) await(t *testing.T, from int, what string, match func(pushedState) bool) pushedState {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLogin)
	defer cancel()
	st, err := s.Await(ctx, from, match)
	if err != nil {
		all, _ := s.Snapshot()
		var got []string
		for _, st := range all[from:] {
			got = append(got, fmt.Sprintf("%s/%s(%s)", st.StateEvent, st.Error, st.RemoteID))
		}
		t.Fatalf("no %s pushed to the status endpoint within %s (%v); pushed: %v", what, waitLogin, err, got)
	}
	return st
}

type whoamiResp struct {
	BridgeBot      id.UserID `json:"bridge_bot"`
	ManagementRoom id.RoomID `json:"management_room"`
	Logins         []struct {
		ID    string             `json:"id"`
		Name  string             `json:"name"`
		State status.BridgeState `json:"state"`
	} `json:"logins"`
}

func whoami(t *testing.T, provision func(method, path string, body, out any) error) whoamiResp {
	t.Helper()
	var w whoamiResp
	if err := provision(http.MethodGet, "/v3/whoami", nil, &w); err != nil {
		t.Fatal(err)
	}
	return w
}
