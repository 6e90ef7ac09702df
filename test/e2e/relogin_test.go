//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// WeChat ends the session (kicked, 1101): the bot tells the user, the phone is asked to
// confirm a new login (push login, no QR), and after the confirmation the same contact
// lands in the same room from the same ghost, although every session UserName changed.
func TestPushReloginAfterSessionEnds(t *testing.T) {
	e := loadEnv(t)
	a := &afternoon{e: e, ctl: &wxsim.Control{BaseURL: e.wxsimURL}, bot: id.NewUserID("wechatbot", e.server)}
	ctx := t.Context()
	const (
		me      = "wxid_pia"
		contact = "wxid_quinn"
	)
	if _, err := a.ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: me, Nickname: "Pia", Uin: 3003, Host: "wx8.qq.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ctl.AddContact(ctx, me, wxsim.ContactSpec{Wxid: contact, Nickname: new("Quinn")}); err != nil {
		t.Fatal(err)
	}
	u := registerUser(ctx, t, e.hsURL, "pia", matrixPass)
	a.alice = u
	a.bind(t)
	dm := a.openBotDM(t, u)
	a.loginWithQR(t, u, dm, me, false)

	from := u.Mark()
	t0 := a.incoming(t, me, wxsim.WorldMessage{From: contact, Type: 1, Content: "before the session ends"})
	first := a.awaitNewPortal(t, u, from, "before the session ends")
	a.note(t, "W→M", "before the session ends", first.At.Sub(t0))
	before, err := a.ctl.Account(ctx, me)
	if err != nil {
		t.Fatal(err)
	}

	from = u.Mark()
	if err := a.ctl.Logout(ctx, me, 1101); err != nil {
		t.Fatal(err)
	}
	botNotice := func(substr string) func(*harness.Seen) bool {
		return harness.And(harness.InRoom(dm), harness.FromSender(a.bot), func(s *harness.Seen) bool { return strings.Contains(s.Body(), substr) })
	}
	u.Must(ctx, waitLogin, from, "the bot asking to confirm the login on the phone", botNotice("confirm"))
	if _, err := a.ctl.PushLoginConfirm(ctx, me); err != nil {
		t.Fatalf("confirm the push login on the phone: %v", err)
	}
	u.Must(ctx, waitLogin, from, "the bot saying it is logged in again", botNotice("Logged in to WeChat again"))
	after, err := a.ctl.Account(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	if !after.LoggedIn || after.UserName == before.UserName || after.Sessions <= before.Sessions {
		t.Fatalf("wxsim account before %+v, after %+v: want a new session with a new UserName", before, after)
	}
	if qr := u.Find(from, harness.And(harness.InRoom(dm), func(s *harness.Seen) bool { return strings.HasPrefix(s.Body(), qrPrefix) })); qr != nil {
		t.Errorf("a QR code was sent although push login was confirmed: %s", qr)
	}

	again := a.expectMessageIn(t, u, first.Room, me, wxsim.WorldMessage{From: contact, Type: 1, Content: "after the new login"}, first.Evt.Sender)
	if again.Room != first.Room {
		t.Errorf("after the re-login the contact wrote into %s, not the old room %s", again.Room, first.Room)
	}
}
