//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// TestPhonePage drives wxsim's phone page (/_wxsim/phone/) in a real browser, Debian's
// chromium, on a phone-sized viewport, the way a person plays the phone in the demo: the
// Matrix user asks the bot to log in, the page's Scan and Log in buttons confirm the QR
// code, a contact writes through the page's composer and the message arrives in Matrix,
// and the user's answer shows up on the page. A contact whose name is markup is shown as
// that text. Screenshots of the page of a failed step are kept in the run directory.
func TestPhonePage(t *testing.T) {
	a := newWorld(t)
	ctx := t.Context()
	const (
		wx      = "wxid_phoebe"
		pete    = "wxid_pete"
		mallory = "wxid_mallory"
		unsafe  = `<img src=x onerror="document.title='pwned'">`
		hello   = "Hi Phoebe, Pete here, typed on the phone page"
		answer  = "Hello Pete, answered from Matrix"
	)
	if _, err := a.ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: wx, Nickname: "Phoebe", Host: "wx2.qq.com"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []wxsim.ContactSpec{
		{Wxid: pete, Nickname: new("Pete")},
		{Wxid: mallory, Nickname: new(unsafe)},
	} {
		if _, err := a.ctl.AddContact(ctx, wx, c); err != nil {
			t.Fatal(err)
		}
	}

	p := openPhone(t, a.e)
	p.do(t, 30*time.Second, chromedp.Navigate(a.e.wxsimURL+"/_wxsim/phone/?account="+wx))
	title := browse(t, p, 10*time.Second, chromedp.Title())

	u := registerUser(ctx, t, a.e.hsURL, "phoebe", matrixPass)
	dm := a.openBotDM(t, u)

	run(t, "1_unsafe_name_is_text", func(t *testing.T) {
		p.shotOnFailure(t)
		row := fmt.Sprintf(`li.chat[data-chat=%q] .name`, mallory)
		name := browse(t, p, 20*time.Second, chromedp.Text(chromedp.CSS(row)))
		if name != unsafe {
			t.Errorf("the contact's name shows as %q, want the text %q", name, unsafe)
		}
		imgs := browse(t, p, 5*time.Second, chromedp.Evaluate[int](`document.querySelectorAll("#chats img").length`))
		now := browse(t, p, 5*time.Second, chromedp.Title())
		if imgs != 0 || now != title {
			t.Errorf("the name was taken as markup: %d <img> in the chat list, title %q (was %q)", imgs, now, title)
		}
		// A phone-sized window: nothing sticks out sideways.
		if browse(t, p, 5*time.Second, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)) {
			t.Error("the page is wider than the phone's 390 px viewport")
		}
	}, u)

	ok := run(t, "2_login_with_clicks", func(t *testing.T) {
		p.shotOnFailure(t)
		fromBot := func(s *harness.Seen) bool { return s.IsMessage() && s.Evt.Sender == a.bot && s.Room == dm }
		from := u.Mark()
		if _, err := u.Client.SendText(ctx, dm, "login"); err != nil {
			t.Fatal(err)
		}
		qr := u.Must(ctx, waitLogin, from, "the QR code image from the bot", func(s *harness.Seen) bool {
			return fromBot(s) && !s.IsEdit() && s.MsgType() == "m.image"
		})
		uuid := qr.Body()[len(qrPrefix):]
		card := fmt.Sprintf(`.login[data-uuid=%q]`, uuid)

		from = u.Mark()
		p.do(t, 20*time.Second, chromedp.Click(chromedp.CSS(card+` button[data-action="scan"]`)))
		u.Must(ctx, waitLogin, from, "the bot to say the QR code was scanned", func(s *harness.Seen) bool {
			return fromBot(s) && regexp.MustCompile(`(?i)confirm`).MatchString(s.Body())
		})
		from = u.Mark()
		p.do(t, 20*time.Second, chromedp.Click(chromedp.CSS(card+`[data-state="scanned"] button[data-action="confirm"]`)))
		u.Must(ctx, waitLogin, from, "the bot to confirm the login", func(s *harness.Seen) bool {
			return fromBot(s) && regexp.MustCompile(regexp.QuoteMeta(loginMarker)).MatchString(s.Body())
		})
		// The page says so too, and the login card is gone.
		p.waitFor(t, 20*time.Second, "the page to show the web login and no pending card",
			`(uuid) => document.getElementById("web-status").classList.contains("on") &&
				![...document.querySelectorAll(".login")].some(c => c.dataset.uuid === uuid)`, uuid)
	}, u)
	if !ok {
		t.Fatal("not logged in: the later steps need it")
	}

	var room id.RoomID
	run(t, "3_contact_writes_on_the_page", func(t *testing.T) {
		p.shotOnFailure(t)
		from := u.Mark()
		p.do(t, 20*time.Second,
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`li.chat[data-chat=%q]`, pete))),
			chromedp.WaitVisible(chromedp.ID("composer")),
			chromedp.SendKeys(chromedp.ID("text"), hello),
			chromedp.Click(chromedp.ID("send")))
		ev := a.awaitNewPortal(t, u, from, hello)
		if ev.Evt.Sender != a.ghost(pete) {
			t.Errorf("%q was sent by %s, want Pete's ghost %s", hello, ev.Evt.Sender, a.ghost(pete))
		}
		room = ev.Room
		p.waitFor(t, 10*time.Second, "Pete's message as his bubble on the page",
			`(pete, text) => [...document.querySelectorAll("#messages li.msg")].some(li => li.dataset.from === pete && li.querySelector(".bubble").textContent === text)`,
			pete, hello)
	}, u)
	if room == "" {
		return // step 3 failed or was not run: the answer has nowhere to go
	}

	run(t, "4_answer_shows_on_the_page", func(t *testing.T) {
		p.shotOnFailure(t)
		if _, err := u.Client.SendText(ctx, room, answer); err != nil {
			t.Fatal(err)
		}
		p.waitFor(t, waitSent, "the answer as the bridge's bubble in Pete's chat",
			`(text) => [...document.querySelectorAll('#messages li.msg[data-from="bridge"] .bubble')].some(b => b.textContent === text)`, answer)
		// And in the list of what the bridge sent.
		p.do(t, 10*time.Second, chromedp.Click(chromedp.ID("back")), chromedp.Click(chromedp.CSS(`#tabs button[data-view="sent"]`)))
		p.waitFor(t, 10*time.Second, "the answer in the Bridge sent list",
			`(text) => [...document.querySelectorAll("#sent li .text")].some(e => e.textContent === text)`, answer)
	}, u)
}

// phone is the browser showing the page.
type phone struct {
	ctx    context.Context
	runDir string
}

// chromiumPath finds Debian's chromium (E2E_CHROMIUM names another).
func chromiumPath() string {
	if p := os.Getenv("E2E_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// openPhone starts a headless chromium with a phone-sized viewport; it is stopped when
// the test ends. Without chromium the test skips only where apt-get cannot install it.
func openPhone(t *testing.T, e *env) *phone {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if _, err := exec.LookPath("apt-get"); err != nil {
			t.Skip("no chromium, and no apt-get to install it: the phone page is not tested in a browser here")
		}
		t.Fatal("chromium is missing, though apt-get is here: test/e2e/run installs it (apt-get install chromium)")
	}
	logFile, err := os.Create(filepath.Join(e.runDir, "phone-chromium.log"))
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(390, 844),
		chromedp.CombinedOutput(logFile))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses to run as root with its sandbox
	}
	// Not t.Context(): that ends before the cleanups, which take the screenshots.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		logFile.Close()
	})
	// The first Run starts the browser, on the context that lives as long as the test.
	// A phone's viewport (a window is at least 500 px wide).
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatalf("start chromium %s: %v (its output: %s)", path, err, logFile.Name())
	}
	return &phone{ctx: ctx, runDir: e.runDir}
}

// do runs browser actions within d.
func (p *phone) do(t *testing.T, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browse(t, p, d, chromedp.Steps(actions...))
}

// browse runs one browser action within d and returns its value.
func browse[T any](t *testing.T, p *phone, d time.Duration, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("the phone page: %v", err)
	}
	return v
}

// waitFor waits until the JavaScript function fn, called with args, returns true on the
// page (the browser evaluates it at each animation frame).
func (p *phone) waitFor(t *testing.T, d time.Duration, what, fn string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.PollFunction[bool](fn, chromedp.WithPollingArgs(args...), chromedp.WithPollingTimeout(d)))
	if err != nil || !ok {
		t.Fatalf("%s: not seen within %s (%v)", what, d, err)
	}
}

// shotOnFailure keeps a screenshot of the page in the run directory when t fails.
func (p *phone) shotOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Logf("no screenshot of the phone page: %v", err)
			return
		}
		name := "phone-" + regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_") + ".png"
		file := filepath.Join(p.runDir, name)
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Logf("screenshot: %v", err)
			return
		}
		t.Logf("screenshot of the phone page: %s", file)
	})
}
