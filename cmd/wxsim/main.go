// Command wxsim runs the WeChat web-protocol server double (package
// protoclient/wxsim) on one address, for end-to-end tests and demos. State lives in
// memory and dies with the process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"wxbridge/protoclient/wxsim"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8780", "address to listen on (port 0 picks a free port)")
	level := flag.String("log-level", "info", "log level: trace, debug, info, warn, error, disabled")
	logJSON := flag.Bool("log-json", false, "log JSON lines instead of console text")
	syncHold := flag.Int("synccheck-hold-ms", -1, "initial synccheck_hold_ms (default: the contract's 25000)")
	loginHold := flag.Int("login-poll-hold-ms", -1, "initial login_poll_hold_ms (default 25000)")
	noCookies := flag.Bool("lenient-auth", false, "start with require_cookies=false")
	flag.Parse()

	lvl, err := zerolog.ParseLevel(*level)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wxsim: bad -log-level:", err)
		os.Exit(2)
	}
	var log zerolog.Logger
	if *logJSON {
		log = zerolog.New(os.Stderr)
	} else {
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly})
	}
	log = log.Level(lvl).With().Timestamp().Str("component", "wxsim").Logger()

	st := wxsim.DefaultSettings()
	if *syncHold >= 0 {
		st.SynccheckHoldMS = *syncHold
	}
	if *loginHold >= 0 {
		st.LoginPollHoldMS = *loginHold
	}
	if *noCookies {
		st.RequireCookies = false
	}
	sim := wxsim.New(wxsim.Options{Logger: log, Settings: &st})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error().Err(err).Str("listen", *listen).Msg("cannot listen")
		os.Exit(1)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	// Exactly one line on stdout: scripts wait for it and read the address from it.
	fmt.Printf("wxsim listening on http://%s\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("server failed")
			os.Exit(1)
		}
	case <-ctx.Done():
		log.Info().Msg("shutting down")
		sim.Close()
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
	}
}
