package bridge

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/bridgev2"

	"wxbridge/protoclient/wxsim"
	"wxbridge/protoclient/wxsim/wxsimtest"
)

// The QR steps a user sees, up to the point where the bridge stores the login (which
// the end-to-end tests cover with a real homeserver).
func TestQRLoginSteps(t *testing.T) {
	srv := wxsimtest.New(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	ts, ctl := srv.TS, srv.Ctl
	if _, err := ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: "wxid_alice", Nickname: "Alice", Uin: 1001}); err != nil {
		t.Fatal(err)
	}
	wc := &WeChatConnector{Config: Config{ServerURL: ts.URL}}
	proc, err := wc.CreateLogin(ctx, nil, LoginFlowIDQR)
	if err != nil {
		t.Fatal(err)
	}
	ql := proc.(*QRLogin)

	step, err := ql.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	uuid := strings.TrimPrefix(step.DisplayAndWaitParams.Data, "https://login.weixin.qq.com/l/")
	if step.StepID != LoginStepIDQR || step.DisplayAndWaitParams.Type != bridgev2.LoginDisplayTypeQR || uuid == step.DisplayAndWaitParams.Data {
		t.Fatalf("first step = %+v", step)
	}
	// One sentence about the risk, with the link, before the code; no warning about
	// refusals (there were none).
	if !strings.Contains(step.Instructions, "has restricted accounts that kept trying: "+limitsURL) || strings.Contains(step.Instructions, "refused") {
		t.Errorf("first QR step instructions %q: want the risk sentence with %s", step.Instructions, limitsURL)
	}

	// The code expires: a new one replaces it under the same step id (edited in place).
	if err := ctl.Expire(ctx, uuid); err != nil {
		t.Fatal(err)
	}
	step, err = ql.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	uuid2 := strings.TrimPrefix(step.DisplayAndWaitParams.Data, "https://login.weixin.qq.com/l/")
	if step.StepID != LoginStepIDQR || uuid2 == uuid || uuid2 == "" {
		t.Fatalf("after expiry: step %q uuid %q (was %q)", step.StepID, uuid2, uuid)
	}
	if strings.Contains(step.Instructions, limitsURL) {
		t.Errorf("a refreshed QR code repeats the risk sentence: %q", step.Instructions)
	}

	// Scanned: a "confirm on your phone" step.
	if err := ctl.Scan(ctx, uuid2, "wxid_alice"); err != nil {
		t.Fatal(err)
	}
	step, err = ql.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if step.StepID != LoginStepIDScanned || !strings.Contains(step.Instructions, "Confirm") {
		t.Fatalf("after scan: %+v", step)
	}

	// WeChat refuses web login for the account: the user reads why.
	if _, err := ctl.Settings(ctx, map[string]any{"login_forbidden": true}); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Confirm(ctx, uuid2); err != nil {
		t.Fatal(err)
	}
	_, err = ql.Wait(ctx)
	var re bridgev2.RespError
	if !asRespError(err, &re) || re.ErrCode != errCodeLoginRefused || !strings.Contains(re.Err, "1203") {
		t.Fatalf("refused login: %v", err)
	}

	// Cancelled on the phone.
	_, err = phoneAnswers(t, ctx, wc, ctl, ctl.Cancel)
	if !asRespError(err, &re) || re.ErrCode != errCodeLoginCanceled {
		t.Fatalf("cancelled login: %v", err)
	}

	// WeChat ends the new session in its very webwxinit: a refused session, explained.
	wc.Config.EarlyLogoutWindow = 10 * time.Minute
	if _, err := ctl.Settings(ctx, map[string]any{"login_forbidden": false}); err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.AddFault(ctx, wxsim.Fault{Account: "wxid_alice", Endpoint: "webwxinit", Kind: "retcode", Value: 1102, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = phoneAnswers(t, ctx, wc, ctl, ctl.Confirm)
	if !asRespError(err, &re) || re.ErrCode != errCodeLoginRefused || !strings.Contains(re.Err, "0 seconds after login (error 1102)") ||
		!strings.Contains(re.Err, "will not log in again by itself") {
		t.Fatalf("a login whose webwxinit answered 1102: %v", err)
	}
}

// phoneAnswers starts a QR login, scans it as Alice, answers on the phone (confirm or
// cancel) and waits past the "scanned" step for what follows.
func phoneAnswers(t *testing.T, ctx context.Context, wc *WeChatConnector, ctl *wxsim.Control, answer func(context.Context, string) error) (*bridgev2.LoginStep, error) {
	t.Helper()
	proc, err := wc.CreateLogin(ctx, nil, LoginFlowIDQR)
	if err != nil {
		t.Fatal(err)
	}
	ql := proc.(*QRLogin)
	step, err := ql.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	uuid := strings.TrimPrefix(step.DisplayAndWaitParams.Data, "https://login.weixin.qq.com/l/")
	if err := ctl.Scan(ctx, uuid, "wxid_alice"); err != nil {
		t.Fatal(err)
	}
	if err := answer(ctx, uuid); err != nil {
		t.Fatal(err)
	}
	for {
		step, err = ql.Wait(ctx)
		if err != nil || step.StepID != LoginStepIDScanned {
			return step, err
		}
	}
}

func asRespError(err error, out *bridgev2.RespError) bool {
	re, ok := err.(bridgev2.RespError)
	if ok {
		*out = re
	}
	return ok
}
