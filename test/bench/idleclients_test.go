//go:build bench

package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
	"wxbridge/protoclient/wxsim/wxsimtest"
)

// The idle-login floors: what holding n synccheck long polls costs a Go process without
// the bridge, measured in a child process (this test binary run again) so that its CPU
// and RSS are its own. Two floors:
//   - "protoclient": n protocol clients, each logged in to its own wxsim account and
//     running RunSync with a handler that does nothing: the protocol library alone.
//   - "nethttp": the same n sessions' synccheck requests, captured from protoclient and
//     replayed in a loop by a plain net/http client (the default transport, which asks
//     for gzip and unpacks it itself): what any Go program pays for the long polls.
//
// The child prints "base" once it has started (the parent reads the RSS then), logs in,
// prints "ready" when every poll is out, and runs until its stdin closes.

const (
	idleChildEnv = "BENCH_IDLE_CHILD" // protoclient or nethttp
	idleChildN   = "BENCH_IDLE_CHILD_N"
)

// TestIdleChild is the child's side; without BENCH_IDLE_CHILD it is skipped.
func TestIdleChild(t *testing.T) {
	mode := os.Getenv(idleChildEnv)
	if mode == "" {
		t.Skip("runs only as the child of the scale phase")
	}
	n, err := strconv.Atoi(os.Getenv(idleChildN))
	if err != nil {
		t.Fatal(err)
	}
	wxsimURL := os.Getenv("BENCH_WXSIM_URL")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the parent closes stdin to end the child
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	fmt.Println("base")
	ctl := &wxsim.Control{BaseURL: wxsimURL, HTTP: httpClient}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	capture := &syncCheckCapture{next: func() *http.Transport {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64 // the logins, one after the other, reuse their connections
		return t
	}()}
	bare := &http.Client{Transport: func() *http.Transport {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = n
		return t
	}()}
	uin0 := map[string]int64{"protoclient": 300000, "nethttp": 400000}[mode]
	for i := range n {
		wxid := fmt.Sprintf("wxid_%s%04d", mode, i)
		if _, err := ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: wxid, Uin: uin0 + int64(i), Host: "wx2.qq.com"}); err != nil {
			t.Fatal(err)
		}
		opts := protoclient.Options{ServerURL: wxsimURL}
		if mode == "nethttp" {
			opts.HTTPClient = &http.Client{Transport: capture}
		}
		c, err := protoclient.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wxsimtest.QRLogin(ctx, ctl, c, wxid); err != nil {
			t.Fatalf("login %s: %v", wxid, err)
		}
		wg.Add(1)
		switch mode {
		case "protoclient":
			go func() {
				defer wg.Done()
				err := c.RunSync(ctx, func(context.Context, *protoclient.SyncBatch) error { return nil }, protoclient.SyncOptions{})
				if ctx.Err() == nil {
					errs <- err
				}
			}()
		case "nethttp":
			// The replayed request keeps its synckey, so WeChat must have nothing newer for
			// it, or every poll would come back at once: take what the login left first.
			for {
				b, err := c.Sync(ctx)
				if err != nil {
					t.Fatal(err)
				}
				c.Commit(b)
				if b.ContinueFlag == 0 {
					break
				}
			}
			// One synccheck through protoclient, answered by the capture without reaching
			// wxsim, gives the request a browser would send; the loop then sends it as is.
			if _, err := c.SyncCheck(ctx); err != nil {
				t.Fatal(err)
			}
			req := capture.take()
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					r := req.Clone(ctx)
					r.Header.Del("Accept-Encoding") // net/http asks for gzip and unpacks it
					resp, err := bare.Do(r)
					if err != nil {
						if ctx.Err() == nil {
							errs <- err
						}
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		default:
			t.Fatalf("%s=%q: want protoclient or nethttp", idleChildEnv, mode)
		}
	}
	fmt.Println("ready")
	select {
	case <-ctx.Done():
	case err := <-errs:
		t.Fatalf("a long poll stopped: %v", err)
	}
	wg.Wait()
}

// syncCheckCapture passes every request on except synccheck, which it keeps and answers
// "nothing new" itself.
type syncCheckCapture struct {
	next http.RoundTripper
	mu   sync.Mutex
	last *http.Request
}

func (s *syncCheckCapture) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, "/synccheck") {
		return s.next.RoundTrip(r)
	}
	s.mu.Lock()
	s.last = r.Clone(context.Background())
	s.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/javascript"}},
		Body: io.NopCloser(strings.NewReader(`window.synccheck={retcode:"0",selector:"0"}`)), Request: r}, nil
}

func (s *syncCheckCapture) take() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.last
	s.last = nil
	return r
}

// idleFloor is one floor's numbers.
type idleFloor struct {
	cpu     time.Duration
	wall    time.Duration
	rssBase int64
	rss     int64
	polls   int64 // synccheck requests wxsim answered during the window
}

// measureIdleFloor runs the child in mode with n long polls, waits settle, and measures
// its CPU over window, the polls wxsim answered in it, and its RSS.
func (e *env) measureIdleFloor(ctx context.Context, ctl *wxsim.Control, mode string, n int, settle, window time.Duration) (idleFloor, error) {
	self, err := os.Executable()
	if err != nil {
		return idleFloor{}, err
	}
	cmd := exec.CommandContext(ctx, self, "-test.run", "^TestIdleChild$")
	cmd.Env = append(os.Environ(), idleChildEnv+"="+mode, idleChildN+"="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return idleFloor{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return idleFloor{}, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return idleFloor{}, err
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	next := func(want string) error {
		for lines.Scan() {
			if lines.Text() == want {
				return nil
			}
			fmt.Println("bench: idle child:", lines.Text())
		}
		return fmt.Errorf("idle child (%s) ended before %q", mode, want)
	}
	var f idleFloor
	if err := next("base"); err != nil {
		return f, err
	}
	pid := cmd.Process.Pid
	f.rssBase, _ = rssBytes(pid)
	if err := next("ready"); err != nil {
		return f, err
	}
	go func() { // the rest of its output, so that a failure shows
		for lines.Scan() {
			fmt.Println("bench: idle child:", lines.Text())
		}
	}()
	select {
	case <-time.After(settle): // let the logins' work end before the window
	case <-ctx.Done():
		return f, ctx.Err()
	}
	if err := ctl.ResetStats(ctx); err != nil {
		return f, err
	}
	m := startCPU(pid)
	select {
	case <-time.After(window): // the measurement window
	case <-ctx.Done():
		return f, ctx.Err()
	}
	used, wall := m.stop()
	if st, err := ctl.Stats(ctx); err == nil {
		f.polls = st.Requests["synccheck"]
	}
	if cmd.ProcessState != nil {
		return f, errors.New("idle child exited during the window")
	}
	f.cpu, f.wall = used[0], wall
	f.rss, _ = rssBytes(pid)
	return f, nil
}
