// Package provision drives the bridge's provisioning API the way an app that shows the QR
// code does, for the end-to-end tests and the benchmark. It plays the phone through
// wxsim's control API. It must not import the bridge: it talks HTTP only.
package provision

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"wxbridge/protoclient/wxsim"
)

// QRPrefix is what the QR code of a WeChat web login encodes, before the uuid.
const QRPrefix = "https://login.weixin.qq.com/l/"

// Call makes one provisioning request as some user (shared secret and ?user_id=) and
// decodes the answer into out.
type Call func(method, path string, body, out any) error

// Step is a bridgev2 login step as the provisioning API returns it.
type Step struct {
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

// QRLogin logs in to the WeChat account wxid: start the QR flow, scan, wait for the
// "scanned" step, confirm, wait for completion. It returns the login's id.
func QRLogin(ctx context.Context, ctl *wxsim.Control, call Call, wxid string) (string, error) {
	var st Step
	if err := call(http.MethodPost, "/v3/login/start/qr", map[string]any{}, &st); err != nil {
		return "", err
	}
	if st.DisplayAndWait == nil || !strings.HasPrefix(st.DisplayAndWait.Data, QRPrefix) {
		return "", fmt.Errorf("login start: %+v, want a QR code with %s<uuid>", st, QRPrefix)
	}
	uuid := strings.TrimPrefix(st.DisplayAndWait.Data, QRPrefix)
	if err := ctl.Scan(ctx, uuid, wxid); err != nil {
		return "", err
	}
	loginID := st.LoginID
	wait := func() error {
		path := "/v3/login/step/" + url.PathEscape(loginID) + "/" + url.PathEscape(st.StepID) + "/display_and_wait"
		st = Step{}
		return call(http.MethodPost, path, map[string]any{}, &st)
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
