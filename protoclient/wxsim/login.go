package wxsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"wxbridge/protoclient"
)

// QR login, push login, newloginpage and logout (reference §3, §10.2).

const (
	stateWaiting   = "waiting"
	stateScanned   = "scanned"
	stateConfirmed = "confirmed"
	stateCancelled = "cancelled"
	stateExpired   = "expired"
)

// msg1203 is the real refusal text of §3.5.
const msg1203 = "当前登录环境异常。为了你的帐号安全，暂时不能登录web微信。你可以通过Windows微信、Mac微信或者手机客户端微信登录。"

type login struct {
	uuid     string
	state    string
	created  time.Time
	wxid     string
	push     bool
	ticket   string
	used     bool
	scanTime int64
	// reported is the state the last poll answered; a poll holds while nothing changed
	// since, so a client that loops at once on 201 does not spin.
	reported string
	changed  chan struct{}
}

func (l *login) set(state string) {
	l.state = state
	close(l.changed)
	l.changed = make(chan struct{})
}

func terminal(state string) bool {
	return state == stateConfirmed || state == stateCancelled || state == stateExpired
}

func (s *Server) newLogin(wxid string, push bool) *login {
	l := &login{uuid: newUUID(), state: stateWaiting, created: s.now(), reported: stateWaiting, changed: make(chan struct{})}
	if push {
		l.wxid, l.push, l.state, l.reported = wxid, true, stateScanned, stateScanned
	}
	s.logins[l.uuid] = l
	s.loginOrder = append(s.loginOrder, l)
	return l
}

// expireIfDue applies qr_expiry_s lazily; callers hold s.mu.
func (s *Server) expireIfDue(l *login) {
	if s.settings.QRExpiryS > 0 && !terminal(l.state) && s.now().Sub(l.created) >= time.Duration(s.settings.QRExpiryS)*time.Second {
		l.set(stateExpired)
	}
}

func (s *Server) handleJSLogin(c *call) {
	s.mu.Lock()
	l := s.newLogin("", false)
	s.mu.Unlock()
	s.log.Info().Str("uuid", l.uuid).Msg("new QR login")
	s.writeJS(c, `window.QRLogin.code = 200; window.QRLogin.uuid = "`+l.uuid+`";`)
}

func (s *Server) handleQRCode(c *call) {
	uuid := c.r.URL.Path[len("/qrcode/"):]
	s.mu.Lock()
	_, ok := s.logins[uuid]
	s.mu.Unlock()
	if !ok {
		c.w.WriteHeader(404)
		return
	}
	img := qrImage(uuid)
	c.w.Header().Set("Content-Type", "image/jpeg")
	c.w.Header().Set("Content-Length", strconv.Itoa(len(img)))
	_, _ = c.w.Write(img)
}

func (s *Server) handleQRPage(c *call) {
	uuid := c.r.URL.Path[len("/l/"):]
	s.writeRaw(c, "text/html; charset=utf-8", []byte("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>微信登录</title></head><body><p>请使用微信扫一扫以登录</p><p>"+url.PathEscape(uuid)+"</p></body></html>"))
}

func (s *Server) handleLoginPoll(c *call) {
	uuid := c.q.Get("uuid")
	// Holds run on the real clock; Options.Now only stamps protocol times.
	deadline := time.Now().Add(ms(s.Settings().LoginPollHoldMS))
	for {
		s.mu.Lock()
		l := s.logins[uuid]
		if l == nil {
			s.mu.Unlock()
			s.writeJS(c, "window.code=400;")
			return
		}
		s.expireIfDue(l)
		if l.state != l.reported || terminal(l.state) {
			l.reported = l.state
			text := s.pollAnswer(l)
			s.mu.Unlock()
			s.writeJS(c, text)
			return
		}
		hold := time.Until(deadline)
		if s.settings.QRExpiryS > 0 {
			if left := l.created.Add(time.Duration(s.settings.QRExpiryS) * time.Second).Sub(s.now()); left < hold {
				hold = max(left, time.Millisecond) // wake to expire it
			}
		}
		ch := l.changed
		s.mu.Unlock()
		if time.Until(deadline) <= 0 {
			s.writeJS(c, "window.code=408;")
			return
		}
		if !s.wait(c, ch, hold) {
			return
		}
	}
}

// pollAnswer is the exact text of §2.3/§10.2 for a state; callers hold s.mu.
func (s *Server) pollAnswer(l *login) string {
	switch l.state {
	case stateScanned:
		var avatar []byte
		if a := s.accounts[l.wxid]; a != nil {
			avatar = a.avatar
		}
		if len(avatar) == 0 {
			avatar = defaultAvatar(l.wxid)
		}
		return "window.code=201;window.userAvatar = 'data:img/jpg;base64," + base64.StdEncoding.EncodeToString(avatar) + "';"
	case stateConfirmed:
		host := "wx.qq.com"
		if a := s.accounts[l.wxid]; a != nil {
			host = a.host
		}
		return fmt.Sprintf(`window.code=200;window.redirect_uri="https://%s/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=%s&uuid=%s&lang=zh_CN&scan=%d";`, host, l.ticket, l.uuid, l.scanTime)
	case stateCancelled:
		return "window.code=202;"
	case stateExpired:
		return "window.code=400;"
	}
	return "window.code=408;"
}

func xmlError(ret int, msg string) string {
	return fmt.Sprintf("<error><ret>%d</ret><message>%s</message></error>", ret, msg)
}

func (s *Server) handleNewLoginPage(c *call) {
	ticket, uuid := c.q.Get("ticket"), c.q.Get("uuid")
	s.mu.Lock()
	l := s.tickets[ticket]
	if l == nil || l.used || (uuid != "" && uuid != l.uuid) {
		s.mu.Unlock()
		s.writeRaw(c, "text/plain;charset=utf-8", []byte(xmlError(-14, "ticket error")))
		return
	}
	l.used = true
	acct := s.accounts[l.wxid]
	if s.settings.LoginForbidden || acct == nil {
		s.mu.Unlock()
		s.log.Info().Str("account", l.wxid).Msg("web login refused with 1203")
		s.writeRaw(c, "text/plain;charset=utf-8", []byte(xmlError(1203, msg1203)))
		return
	}
	sess := s.newSession(acct)
	uvid, auth := newUvid(), newAuthTicket()
	acct.devices[auth] = uvid
	secure := s.settings.CookieSecure
	s.mu.Unlock()
	s.log.Info().Str("account", acct.wxid).Str("host", acct.host).Msg("session created")

	s.setSessionCookies(c, sess, secure, false)
	const tenYears = 10 * 365 * 24 * time.Hour
	s.setCookie(c, "webwxuvid", uvid, sess.host, tenYears, secure)
	s.setCookie(c, "webwx_auth_ticket", auth, sess.host, tenYears, secure)
	body := fmt.Sprintf("<error><ret>0</ret><message></message><skey>%s</skey><wxsid>%s</wxsid><wxuin>%d</wxuin><pass_ticket>%s</pass_ticket><isgrayscale>1</isgrayscale></error>",
		sess.skey, sess.sid, sess.uin, url.QueryEscape(sess.passTicket))
	// Without version=v2 the real success answer is a 301 with no Location and the XML
	// in the body (§3.5); wechat4u, which omits v2, reads it only from that 301.
	if c.status == 0 && c.q.Get("version") != "v2" {
		c.status = http.StatusMovedPermanently
	}
	s.writeRaw(c, "text/plain;charset=utf-8", []byte(body))
}

// newSession starts a login of acct; an earlier live session dies as when the user
// logs in to the web elsewhere (1101). Callers hold s.mu.
func (s *Server) newSession(acct *account) *session {
	if old := acct.live; old != nil {
		old.kill(retSessionInvalid)
	}
	now := s.now()
	sess := &session{
		acct: acct, sid: newSid(), skey: newSkey(), passTicket: newPassTicket(), dataTicket: newDataTicket(),
		uin: acct.uin, host: acct.host, selfName: newUserName(), loginTime: now.Unix(),
		names: map[string]protoclient.UserName{}, byName: map[protoclient.UserName]string{},
		encIDs: map[string]string{}, byEnc: map[string]string{},
		lastSeen: now,
		endAfter: ms(s.settings.LogoutAfterLoginMS), endCode: s.settings.LogoutAfterLoginRetcode,
	}
	sess.startSeq = acct.seq
	if s.settings.OfflineDelivery {
		sess.startSeq = acct.deliveredSeq
	}
	sess.ackSeq = sess.startSeq
	s.sessions[sess.sid] = sess
	s.bySkey[sess.skey] = sess
	acct.live = sess
	acct.sessionCount++
	acct.wake()
	return sess
}

// armEnd starts the countdown of logout_after_login_ms at the session's first
// webwxinit, which is where a client counts itself logged in. Callers hold s.mu.
func (s *Server) armEnd(sess *session) {
	if sess.endAfter <= 0 || !sess.endAt.IsZero() || sess.dead {
		return
	}
	sess.endAt = s.now().Add(sess.endAfter)
	sess.endTimer = s.afterFunc(sess.endAfter, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.endIfDue(sess)
	})
}

// endIfDue ends a session whose logout_after_login_ms deadline has passed; callers
// hold s.mu.
func (s *Server) endIfDue(sess *session) {
	if sess.dead || sess.endAt.IsZero() || s.now().Before(sess.endAt) {
		return
	}
	sess.end(deny(sess.endCode))
	s.log.Info().Str("account", sess.acct.wxid).Int("retcode", sess.endCode).Msg("session ended by logout_after_login_ms")
}

func (s *Server) handlePushLoginURL(c *call) {
	uin := parseInt(c.q.Get("uin"))
	auth, uvid := c.cookie("webwx_auth_ticket"), c.cookie("webwxuvid")
	s.mu.Lock()
	acct := s.accountByUin[uin]
	ok := acct != nil && auth != "" && uvid != "" && acct.devices[auth] == uvid
	var l *login
	if ok {
		l = s.newLogin(acct.wxid, true)
	}
	s.mu.Unlock()
	if !ok {
		s.writeJSON(c, map[string]string{"ret": "1", "msg": "", "uuid": ""})
		return
	}
	s.log.Info().Str("account", acct.wxid).Str("uuid", l.uuid).Msg("push login pending")
	s.writeRaw(c, "text/plain", []byte(`{"ret":"0","msg":"all ok","uuid":"`+l.uuid+`"}`))
}

func (s *Server) handleLogout(c *call) {
	var extra url.Values
	if vals, err := url.ParseQuery(string(c.body)); err == nil {
		extra = vals
	}
	sess, code := s.authenticate(c, nil, needSession, extra)
	if code.Ret == 0 && sess != nil {
		s.mu.Lock()
		sess.kill(retSessionInvalid)
		s.mu.Unlock()
		s.log.Info().Str("account", sess.acct.wxid).Msg("client logged out")
	}
	c.w.WriteHeader(http.StatusOK)
}
