// Package wxsimtest runs wxsim inside a test, the way net/http/httptest runs a handler: a
// server on loopback with its control client, stopped when the test ends. Every test that
// needs the WeChat servers in-process starts them here. It must not import the bridge's
// packages.
package wxsimtest

import (
	"context"
	"net/http/httptest"
	"testing"

	"wxbridge/protoclient"
	"wxbridge/protoclient/wxsim"
)

// Server is a running wxsim.
type Server struct {
	Sim *wxsim.Server
	// TS is the loopback listener: TS.URL is network.server_url, TS.Client() the HTTP
	// client for protoclient.Options.
	TS  *httptest.Server
	Ctl *wxsim.Control
}

// New starts wxsim with short long-poll holds (idle polls must not slow the tests down;
// nothing waits on them), changed by tweak when not nil, and with opts (a clock); the
// settings are the server's from the start. The server stops when tb ends.
func New(tb testing.TB, tweak func(*wxsim.Settings), opts ...func(*wxsim.Options)) *Server {
	tb.Helper()
	st := wxsim.DefaultSettings()
	st.SynccheckHoldMS = 300
	st.LoginPollHoldMS = 300
	if tweak != nil {
		tweak(&st)
	}
	o := wxsim.Options{Settings: &st}
	for _, f := range opts {
		f(&o)
	}
	sim := wxsim.New(o)
	ts := httptest.NewServer(sim)
	tb.Cleanup(ts.Close)
	tb.Cleanup(sim.Close) // runs first: it releases held long polls, so ts.Close does not wait for them
	return &Server{Sim: sim, TS: ts, Ctl: &wxsim.Control{BaseURL: ts.URL, HTTP: ts.Client()}}
}

// QRLogin logs c in to the account wxid the way the phone would let it: c asks for a QR
// code, the phone scans and confirms it, and c polls until it may complete the login.
func QRLogin(ctx context.Context, ctl *wxsim.Control, c *protoclient.Client, wxid string) (*protoclient.InitResponse, error) {
	uuid, err := c.NewQRLogin(ctx)
	if err != nil {
		return nil, err
	}
	if err := ctl.Scan(ctx, uuid, wxid); err != nil {
		return nil, err
	}
	if err := ctl.Confirm(ctx, uuid); err != nil {
		return nil, err
	}
	for {
		res, err := c.PollLogin(ctx, uuid, 0)
		if err != nil {
			return nil, err
		}
		if res.RedirectURI != "" {
			return c.CompleteLogin(ctx, res.RedirectURI)
		}
	}
}
