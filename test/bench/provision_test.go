//go:build bench

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
)

// provision calls the bridge's provisioning API as user: the shared secret and
// ?user_id= (bridgev2/matrix/provisioning.go).
func (e *env) provision(ctx context.Context, user id.UserID, method, path string, body, out any) error {
	u := e.provURL + path + "?" + url.Values{"user_id": {string(user)}}.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+e.provSecret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

type loginStep struct {
	LoginID        string `json:"login_id"`
	Type           string `json:"type"`
	StepID         string `json:"step_id"`
	DisplayAndWait *struct {
		Type string `json:"type"`
		Data string `json:"data"`
	} `json:"display_and_wait"`
	Complete *struct {
		UserLoginID string `json:"user_login_id"`
	} `json:"complete"`
}

// login logs user in to the WeChat account wxid the way a provisioning client (an app
// showing the QR code) does, playing the phone through wxsim's control API: start the
// QR flow, scan, wait for the "scanned" step, confirm, wait for completion.
func (e *env) login(ctx context.Context, ctl *wxsim.Control, user id.UserID, wxid string) (string, error) {
	var st loginStep
	if err := e.provision(ctx, user, http.MethodPost, "/v3/login/start/qr", map[string]any{}, &st); err != nil {
		return "", err
	}
	if st.DisplayAndWait == nil {
		return "", fmt.Errorf("login start: no QR step: %+v", st)
	}
	i := strings.LastIndex(st.DisplayAndWait.Data, "/l/")
	if i < 0 {
		return "", fmt.Errorf("login start: QR data %q has no uuid", st.DisplayAndWait.Data)
	}
	uuid := st.DisplayAndWait.Data[i+3:]
	if err := ctl.Scan(ctx, uuid, wxid); err != nil {
		return "", err
	}
	loginID := st.LoginID
	wait := func() error {
		path := "/v3/login/step/" + url.PathEscape(loginID) + "/" + url.PathEscape(st.StepID) + "/display_and_wait"
		st = loginStep{}
		return e.provision(ctx, user, http.MethodPost, path, map[string]any{}, &st)
	}
	if err := wait(); err != nil {
		return "", err
	}
	if st.Type != "display_and_wait" {
		return "", fmt.Errorf("after the scan: step %s (%s), want the scanned step", st.StepID, st.Type)
	}
	if err := ctl.Confirm(ctx, uuid); err != nil {
		return "", err
	}
	if err := wait(); err != nil {
		return "", err
	}
	if st.Type != "complete" || st.Complete == nil {
		return "", fmt.Errorf("after the confirmation: step %s (%s), want complete", st.StepID, st.Type)
	}
	return st.Complete.UserLoginID, nil
}

// loginStates is each login of user with its current bridge state (GET /v3/whoami).
func (e *env) loginStates(ctx context.Context, user id.UserID) (map[string]string, error) {
	var who struct {
		Logins []struct {
			ID    string `json:"id"`
			State struct {
				StateEvent string `json:"state_event"`
			} `json:"state"`
		} `json:"logins"`
	}
	if err := e.provision(ctx, user, http.MethodGet, "/v3/whoami", nil, &who); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, l := range who.Logins {
		out[l.ID] = l.State.StateEvent
	}
	return out, nil
}
