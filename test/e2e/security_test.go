//go:build e2e

package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"
)

// Only permitted users may log in; the provisioning API needs its secret; the appservice
// refuses transactions that do not carry the homeserver's hs_token.
func TestSecurityBoundaries(t *testing.T) {
	a := newWorld(t)
	ctx := t.Context()

	base, err := url.Parse(a.e.bridge.ReadyURL)
	if err != nil {
		t.Fatal(err)
	}
	status := func(method, path, auth string) int {
		u := *base
		u.Path = path
		u.RawQuery = url.Values{"user_id": {"@alice:" + a.e.server}}.Encode()
		req, _ := http.NewRequestWithContext(ctx, method, u.String(), strings.NewReader(`{"events":[]}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// A user below the login permission (the harness gives @mallory only "relay"): the
	// bridge bot does not take their invitation, and the provisioning API refuses to start
	// a login for them even with the right secret.
	run(t, "unpermitted_user_cannot_login", func(t *testing.T) {
		mallory := "@mallory:" + a.e.server
		u := *base
		u.Path = "/_matrix/provision/v3/login/start/qr"
		u.RawQuery = url.Values{"user_id": {mallory}}.Encode()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+a.config(t).Provisioning.SharedSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("starting a login for %s answered %d, want 403", mallory, resp.StatusCode)
		}
	})

	run(t, "provisioning_needs_its_secret", func(t *testing.T) {
		for _, auth := range []string{"", "Bearer wrong-secret-wrong-secret"} {
			if code := status(http.MethodGet, "/_matrix/provision/v3/logins", auth); code != http.StatusUnauthorized && code != http.StatusForbidden {
				t.Errorf("provisioning with Authorization %q answered %d, want 401/403", auth, code)
			}
		}
		if code := status(http.MethodGet, "/_matrix/provision/v3/logins", "Bearer "+a.config(t).Provisioning.SharedSecret); code != http.StatusOK {
			t.Errorf("provisioning with the secret answered %d, want 200", code)
		}
	})

	run(t, "appservice_needs_hs_token", func(t *testing.T) {
		for _, auth := range []string{"", "Bearer not-the-hs-token"} {
			if code := status(http.MethodPut, "/_matrix/app/v1/transactions/e2e-forged-"+id.NewUserID("x", "y").Localpart(), auth); code != http.StatusUnauthorized && code != http.StatusForbidden {
				t.Errorf("a transaction with Authorization %q answered %d, want 401/403", auth, code)
			}
		}
	})
}
