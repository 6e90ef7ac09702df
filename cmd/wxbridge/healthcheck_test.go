package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// `wxbridge healthcheck URL` is what a compose file's healthcheck runs in the image: its
// exit status must say whether the bridge answers 2xx at URL.
func TestHealthcheck(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/_matrix/mau/live":
			w.WriteHeader(http.StatusOK)
		case r.URL.Path == "/_matrix/mau/ready" && ready.Load():
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	// A port nobody listens on: the bridge is not running.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String() + "/_matrix/mau/live"
	_ = l.Close()

	run := func(args ...string) (int, string) {
		cmd := exec.Command(os.Args[0], append([]string{"healthcheck"}, args...)...)
		cmd.Env = append(os.Environ(), "WXBRIDGE_TEST_RUN_MAIN=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), stderr.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, stderr.String()
	}
	for _, c := range []struct {
		name   string
		before func()
		args   []string
		want   int
		stderr string
	}{
		{"live", nil, []string{srv.URL + "/_matrix/mau/live"}, 0, ""},
		{"not ready yet", nil, []string{srv.URL + "/_matrix/mau/ready"}, 1, "500 Internal Server Error"},
		{"ready", func() { ready.Store(true) }, []string{srv.URL + "/_matrix/mau/ready"}, 0, ""},
		{"bridge not running", nil, []string{down}, 1, "connection refused"},
		{"an option instead of a URL", nil, []string{"--url"}, 2, "usage: wxbridge healthcheck"},
	} {
		if c.before != nil {
			c.before()
		}
		code, stderr := run(c.args...)
		if code != c.want || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%s: wxbridge healthcheck %s: exit %d (want %d), stderr %q (want %q in it)",
				c.name, strings.Join(c.args, " "), code, c.want, stderr, c.stderr)
		}
	}
}
