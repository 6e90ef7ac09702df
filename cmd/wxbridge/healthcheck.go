package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// defaultHealthURL is mautrix's readiness endpoint on the example config's appservice port:
// 200 once the bridge has reached the homeserver and started, 500 before.
// /_matrix/mau/live answers 200 as soon as the appservice listener is up.
const defaultHealthURL = "http://127.0.0.1:29350/_matrix/mau/ready"

// healthcheck implements `wxbridge healthcheck [URL]` for container health checks (the
// image has neither curl nor wget): a GET of URL that succeeds, with exit status 0, only on
// a 2xx answer within 5 seconds. It returns the exit status.
func healthcheck(args []string, stderr io.Writer) int {
	if len(args) > 1 || (len(args) == 1 && (args[0] == "" || args[0][0] == '-')) {
		fmt.Fprintf(stderr, "usage: wxbridge healthcheck [URL]   (default %s)\n", defaultHealthURL)
		return 2
	}
	url := defaultHealthURL
	if len(args) == 1 {
		url = args[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintf(stderr, "healthcheck: %s: %s\n", url, resp.Status)
		return 1
	}
	return 0
}
