//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// Helpers shared by the tests beyond TestAfternoon: each of those tests has its own Matrix
// user(s) and WeChat account(s), and reuses the afternoon's actions through a fresh
// *afternoon value (the harness: env, wxsim control, bot, delays).

// newWorld is the harness for one test.
func newWorld(t *testing.T) *afternoon {
	t.Helper()
	e := loadEnv(t)
	return &afternoon{e: e, ctl: &wxsim.Control{BaseURL: e.wxsimURL}, bot: id.NewUserID("wechatbot", e.server)}
}

// printDelays logs the delays a test saw, as TestAfternoon does at its end.
func (a *afternoon) printDelays(t *testing.T) {
	if len(a.delays) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("delays observed (W→M: wxsim call to the event in /sync; M→W: Matrix send to the entry in wxsim /sent):\n")
	for _, d := range a.delays {
		fmt.Fprintf(&b, "  %s  %-46q %7.0f ms\n", d.dir, d.what, float64(d.d.Microseconds())/1000)
	}
	t.Log(b.String())
}

// run runs a subtest with the users bound to it (their must() fails the subtest).
func run(t *testing.T, name string, fn func(t *testing.T), users ...*harness.MatrixUser) bool {
	return t.Run(name, func(t *testing.T) {
		for _, u := range users {
			u.Bind(t)
		}
		fn(t)
	})
}

// registerUser registers a scripted Matrix user for the test, bound to t, and makes its
// initial sync.
func registerUser(ctx context.Context, t *testing.T, hsURL, localpart, password string) *harness.MatrixUser {
	t.Helper()
	return harness.MustRegister(ctx, t, hsURL, localpart, password, harness.Options{
		DeviceName: "e2e " + localpart,
		// Large, so that a busy room never yields a gappy timeline that would hide events
		// from the assertions.
		TimelineLimit: 1000,
	})
}

// account is a WeChat account of a test with its Matrix user and management room.
type account struct {
	wxid string
	nick string
	u    *harness.MatrixUser
	dm   id.RoomID // the DM with the bridge bot (management room)
}

// setupAccount creates a WeChat account with contacts and groups in wxsim, registers a
// Matrix user, opens the bot DM and logs in with the QR code.
func (a *afternoon) setupAccount(t *testing.T, localpart, wxid, nick string, uin int64, contacts []wxsim.ContactSpec, groups []wxsim.GroupSpec) *account {
	t.Helper()
	ctx := t.Context()
	// Accounts have an avatar, as real ones do: the user's own ghost shows it.
	if _, err := a.ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: wxid, Nickname: nick, Uin: uin, Host: "wx2.qq.com",
		AvatarBase64: b64(testPNG(t, 20, 20))}); err != nil {
		t.Fatal(err)
	}
	for _, c := range contacts {
		if _, err := a.ctl.AddContact(ctx, wxid, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range groups {
		if _, err := a.ctl.CreateGroup(ctx, wxid, g); err != nil {
			t.Fatal(err)
		}
	}
	u := registerUser(ctx, t, a.e.hsURL, localpart, matrixPass)
	acc := &account{wxid: wxid, nick: nick, u: u}
	acc.dm = a.openBotDM(t, u)
	a.loginWithQR(t, u, acc.dm, wxid, false)
	return acc
}

// awaitMessage waits for an event matching match in any room, accepting every invite
// that arrives meanwhile, like a person in Element (portals of recent chats are created
// at login, so a chat's room may exist before its first message).
func (a *afternoon) awaitMessage(t *testing.T, u *harness.MatrixUser, from int, timeout time.Duration, what string, match func(*harness.Seen) bool) *harness.Seen {
	t.Helper()
	ctx := t.Context()
	joined := map[id.RoomID]bool{}
	for _, s := range u.Events(0) {
		if s.Section == "join" {
			joined[s.Room] = true
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		ev := u.Must(ctx, time.Until(deadline), from, what, func(s *harness.Seen) bool {
			if s.Section == "invite" && harness.MemberEvent(u.ID(), "invite")(s) && !joined[s.Room] {
				return true
			}
			return match(s)
		})
		if !(ev.Section == "invite" && harness.MemberEvent(u.ID(), "invite")(ev)) || match(ev) {
			return ev
		}
		joined[ev.Room] = true
		if _, err := u.Client.JoinRoomByID(ctx, ev.Room); err != nil {
			t.Logf("%s: join %s: %v (already joined by double puppeting?)", u.ID(), ev.Room, err)
		}
	}
}

// incomingRef makes someone write (wxsim control) and returns the message's ids.
func (a *afternoon) incomingRef(t *testing.T, account string, m wxsim.WorldMessage) (wxsim.MsgRef, time.Time) {
	t.Helper()
	t0 := time.Now()
	ref, err := a.ctl.Incoming(t.Context(), account, m)
	if err != nil {
		t.Fatalf("wxsim incoming (type %d): %v", m.Type, err)
	}
	return ref, t0
}

// awaitSent polls wxsim /sent of account (an external process: a short ticker) until
// an entry after the first skip entries matches.
func (a *afternoon) awaitSent(t *testing.T, account string, skip int, what string, match func(wxsim.SentMessage) bool) wxsim.SentMessage {
	t.Helper()
	ctx := t.Context()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitSent)
	for {
		sent, err := a.ctl.Sent(ctx, account)
		if err != nil {
			t.Fatalf("wxsim sent: %v", err)
		}
		if skip <= len(sent) {
			if i := slices.IndexFunc(sent[skip:], match); i >= 0 {
				return sent[skip+i]
			}
		}
		select {
		case <-deadline:
			t.Fatalf("%s did not reach wxsim /sent of %s within %s; /sent = %s", what, account, waitSent, sentDump(sent))
		case <-tick.C:
		}
	}
}

func sentDump(sent []wxsim.SentMessage) string {
	var b strings.Builder
	for _, m := range sent {
		fmt.Fprintf(&b, "\n  type=%d app=%d to=%s file=%q sha=%.12s content=%q", m.Type, m.AppMsgType, m.To, m.FileName, m.MediaSHA256, m.Content)
	}
	return b.String()
}

func (a *afternoon) sentLen(t *testing.T, account string) int {
	t.Helper()
	sent, err := a.ctl.Sent(t.Context(), account)
	if err != nil {
		t.Fatalf("wxsim sent: %v", err)
	}
	return len(sent)
}

// wxContact is how account's phone shows its friend wxid (names, pinned, muted).
func (a *afternoon) wxContact(t *testing.T, account, wxid string) wxsim.ContactInfo {
	t.Helper()
	cs, err := a.ctl.Contacts(t.Context(), account)
	if err != nil {
		t.Fatalf("wxsim contacts: %v", err)
	}
	for _, c := range cs {
		if c.Wxid == wxid {
			return c
		}
	}
	t.Fatalf("%s has no contact %s at wxsim", account, wxid)
	return wxsim.ContactInfo{}
}

// wxRequests is how many requests wxsim has answered on a WeChat endpoint
// ("webwxoplog", "webwxinit", ...), for all accounts.
func (a *afternoon) wxRequests(t *testing.T, endpoint string) int64 {
	t.Helper()
	st, err := a.ctl.Stats(t.Context())
	if err != nil {
		t.Fatalf("wxsim stats: %v", err)
	}
	return st.Requests[endpoint]
}

// sendContent sends an event as the user and returns its id and when it was sent.
func sendContent(t *testing.T, u *harness.MatrixUser, room id.RoomID, typ event.Type, content any) (id.EventID, time.Time) {
	t.Helper()
	t0 := time.Now()
	resp, err := u.Client.SendMessageEvent(t.Context(), room, typ, content)
	if err != nil {
		t.Fatalf("send %s: %v", typ.Type, err)
	}
	return resp.EventID, t0
}

// upload stores bytes in the Matrix media repository as the user.
func upload(t *testing.T, u *harness.MatrixUser, data []byte, mime string) id.ContentURIString {
	t.Helper()
	resp, err := u.Client.UploadBytes(t.Context(), data, mime)
	if err != nil {
		t.Fatalf("upload %d bytes: %v", len(data), err)
	}
	return resp.ContentURI.CUString()
}

// download fetches Matrix media through the client-server API: the authenticated
// /_matrix/client/v1/media/download, else the older /_matrix/media/v3/download.
func download(t *testing.T, u *harness.MatrixUser, mxc string) []byte {
	t.Helper()
	uri, err := id.ParseContentURI(mxc)
	if err != nil {
		t.Fatalf("bad mxc %q: %v", mxc, err)
	}
	data, err := u.Client.DownloadBytes(t.Context(), uri)
	if err == nil {
		return data
	}
	legacy := u.Client.HomeserverURL.JoinPath("_matrix", "media", "v3", "download", uri.Homeserver, uri.FileID)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, legacy.String(), nil)
	req.Header.Set("Authorization", "Bearer "+u.Client.AccessToken)
	resp, err2 := http.DefaultClient.Do(req)
	if err2 != nil {
		t.Fatalf("download %s: %v; legacy: %v", mxc, err, err2)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download %s: %v; legacy: HTTP %d %s", mxc, err, resp.StatusCode, body)
	}
	return body
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// testPNG is a small, real PNG of w×h with a pattern.
func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testGIF is a small animated GIF of w×h (two frames).
func testGIF(t *testing.T, w, h int) []byte {
	t.Helper()
	anim := &gif.GIF{}
	for f := range 2 {
		img := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		for y := range h {
			for x := range w {
				img.SetColorIndex(x, y, uint8((x+y+f*40)%256))
			}
		}
		anim.Image = append(anim.Image, img)
		anim.Delay = append(anim.Delay, 20)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, anim); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// raw builds a wxsim "raw" object (Msg fields put on the wire verbatim).
func raw(t *testing.T, fields map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Content accessors on logged events.

func num(m map[string]any, key string) int64 {
	switch v := m[key].(type) {
	case float64:
		return int64(v)
	case json.Number:
		n, _ := v.Int64()
		return n
	}
	return -1
}

func str(m map[string]any, key string) string {
	v, _ := m[key].(string)
	return v
}

// Matchers.

func ofType(typ event.Type) func(*harness.Seen) bool {
	return func(s *harness.Seen) bool { return s.Evt.Type.Type == typ.Type }
}

func bodyContains(parts ...string) func(*harness.Seen) bool {
	return func(s *harness.Seen) bool {
		if !s.IsMessage() || s.IsEdit() {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(s.Body(), p) {
				return false
			}
		}
		return true
	}
}

func notice(parts ...string) func(*harness.Seen) bool {
	return harness.And(bodyContains(parts...), func(s *harness.Seen) bool { return s.MsgType() == string(event.MsgNotice) })
}

// msgStatus matches the com.beeper.message_send_status event of an event.
var eventMSS = event.BeeperMessageStatus

func statusFor(evt id.EventID) func(*harness.Seen) bool {
	return func(s *harness.Seen) bool {
		if s.Evt.Type.Type != eventMSS.Type {
			return false
		}
		rel, _ := s.Evt.Content.Raw["m.relates_to"].(map[string]any)
		return rel["event_id"] == string(evt)
	}
}

// failureNoticeFor matches the bridge's "⚠️ Your … was not bridged: reason" notice that
// replies to evt.
func failureNoticeFor(evt id.EventID) func(*harness.Seen) bool {
	return func(s *harness.Seen) bool {
		return s.IsMessage() && s.MsgType() == string(event.MsgNotice) && s.ReplyTo() == evt
	}
}

// The bridge's config, as test/e2e/run wrote it.

type bridgeCfg struct {
	Network struct {
		Media struct {
			MaxDownloadSize int64 `yaml:"max_download_size"`
		} `yaml:"media"`
	} `yaml:"network"`
	Provisioning struct {
		SharedSecret string `yaml:"shared_secret"`
	} `yaml:"provisioning"`
	Matrix struct {
		MessageStatusEvents bool `yaml:"message_status_events"`
	} `yaml:"matrix"`
}

func (a *afternoon) config(t *testing.T) bridgeCfg {
	t.Helper()
	b, err := os.ReadFile(a.e.bridge.Config)
	if err != nil {
		t.Fatal(err)
	}
	var c bridgeCfg
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", a.e.bridge.Config, err)
	}
	return c
}

// provision calls the bridge's provisioning API as user (shared secret + ?user_id=).
func (a *afternoon) provision(t *testing.T, user id.UserID, method, path string, body, out any) error {
	t.Helper()
	base, err := url.Parse(a.e.bridge.ReadyURL)
	if err != nil {
		t.Fatal(err)
	}
	base.Path = ""
	ctx, cancel := context.WithTimeout(t.Context(), waitPortal)
	defer cancel()
	return provisionAt(ctx, base.String(), a.config(t).Provisioning.SharedSecret, user, method, path, body, out)
}

// provisionAt calls the provisioning API of the bridge whose appservice listener (or a
// reverse proxy in front of it) is at baseURL, e.g. http://host/wechat for
// http://host/wechat/_matrix/provision/v3/… .
func provisionAt(ctx context.Context, baseURL, secret string, user id.UserID, method, path string, body, out any) error {
	u := baseURL + "/_matrix/provision" + path + "?" + url.Values{"user_id": {string(user)}}.Encode()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// roomMembers is the joined members of a room with their display names.
func roomMembers(t *testing.T, u *harness.MatrixUser, room id.RoomID) map[id.UserID]string {
	t.Helper()
	resp, err := u.Client.JoinedMembers(t.Context(), room)
	if err != nil {
		t.Fatalf("joined members of %s: %v", room, err)
	}
	out := map[id.UserID]string{}
	for m, info := range resp.Joined {
		out[m] = info.DisplayName
	}
	return out
}

// pollHomeserver asks the homeserver on a short ticker until check reports true, for
// state that /sync of a newly joined room may not show; it returns value() then.
func pollHomeserver[T any](t *testing.T, timeout time.Duration, what string, check func() (bool, error), value func() T) T {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	var lastErr error
	for {
		ok, err := check()
		if ok {
			return value()
		}
		lastErr = err
		select {
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
		case <-t.Context().Done():
			t.Fatalf("cancelled waiting for %s", what)
		case <-tick.C:
		}
	}
}

// restartBridge SIGKILLs the bridge and starts it again, waiting until it is ready; it
// returns the new process id. whileDown runs between the two (a crash's aftermath).
func (a *afternoon) restartBridge(t *testing.T, whileDown ...func()) int {
	t.Helper()
	ctx := t.Context()
	kctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.e.killBridge(kctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range whileDown {
		f()
	}
	pid, err := a.e.startBridge()
	if err != nil {
		t.Fatalf("restart the bridge: %v", err)
	}
	rctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
	defer cancel2()
	if err := a.e.waitBridgeReady(rctx, pid); err != nil {
		t.Fatalf("bridge not ready after restart: %v", err)
	}
	return pid
}

// awaitSentOrFailed waits until body is in wxsim /sent of account after the first skip
// entries, or the bridge has shown evID as failed in room; it reports which.
func (a *afternoon) awaitSentOrFailed(t *testing.T, u *harness.MatrixUser, from int, room id.RoomID, evID id.EventID, account string, skip int, body string) (failed bool) {
	t.Helper()
	ctx := t.Context()
	pollHomeserver(t, waitPortal, body+" in wxsim /sent or shown as failed", func() (bool, error) {
		if u.Find(from, harness.And(harness.InRoom(room), failureNoticeFor(evID))) != nil {
			failed = true
			return true, nil
		}
		sent, err := a.ctl.Sent(ctx, account)
		if err != nil {
			return false, err
		}
		if skip <= len(sent) && slices.ContainsFunc(sent[skip:], func(m wxsim.SentMessage) bool { return m.Content == body }) {
			return true, nil
		}
		_ = u.Sync(ctx, 200*time.Millisecond)
		return false, nil
	}, func() bool { return true })
	return failed
}
