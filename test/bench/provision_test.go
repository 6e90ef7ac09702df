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

	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/provision"
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

// login logs user in to the WeChat account wxid the way a provisioning client does
// (test/provision).
func (e *env) login(ctx context.Context, ctl *wxsim.Control, user id.UserID, wxid string) (string, error) {
	return provision.QRLogin(ctx, ctl, func(method, path string, body, out any) error {
		return e.provision(ctx, user, method, path, body, out)
	}, wxid)
}
