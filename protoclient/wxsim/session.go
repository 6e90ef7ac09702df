package wxsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"wxbridge/protoclient"
)

// Authentication of session requests and the session cookies (reference §2.5, §9.1).

// Session error codes (§2.4).
const (
	retSessionNoExist = 1100 // wrong host family
	retSessionInvalid = 1101 // dead or unknown session
	retCookieInvalid  = 1102 // cookies missing
	retParam          = 1
	retSys            = -1
	retNotInGroup     = 1201
)

type authNeed int

const (
	needSession authNeed = iota
	needDataTicket
)

func parseInt(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n
}

func bodyBaseRequest(body []byte) (protoclient.BaseRequest, bool) {
	b := strings.TrimSpace(string(body))
	if !strings.HasPrefix(b, "{") {
		return protoclient.BaseRequest{}, false
	}
	var v struct {
		BaseRequest protoclient.BaseRequest `json:"BaseRequest"`
	}
	if err := json.Unmarshal([]byte(b), &v); err != nil {
		return protoclient.BaseRequest{}, false
	}
	return v.BaseRequest, true
}

// denial says how to refuse a request: Ret for JSON APIs, Retcode for synccheck. They
// differ for a dead session, which synccheck reports with the code it died with and the
// APIs as 1101. The zero value lets the request through.
type denial struct{ Ret, Retcode int }

func deny(code int) denial { return denial{Ret: code, Retcode: code} }

// authenticate finds the live session of a request, or says how to refuse it. extra
// carries credentials found elsewhere (the uploadmediarequest field, forms).
func (s *Server) authenticate(c *call, br *protoclient.BaseRequest, need authNeed, extra url.Values) (*session, denial) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.settings
	var sess *session
	cookieSid, cookieUin := c.cookie("wxsid"), c.cookie("wxuin")
	switch {
	case cookieSid != "" && cookieUin != "":
		sess = s.sessions[cookieSid]
		if sess == nil || strconv.FormatInt(sess.uin, 10) != strings.TrimSpace(cookieUin) {
			return nil, deny(retSessionInvalid)
		}
	case st.RequireCookies:
		return nil, deny(retCookieInvalid)
	default:
		sid, uin, skey := c.q.Get("sid"), parseInt(c.q.Get("uin")), c.q.Get("skey")
		if br != nil {
			if br.Sid != "" {
				sid = br.Sid
			}
			if br.Uin != 0 {
				uin = int64(br.Uin)
			}
			if br.Skey != "" {
				skey = br.Skey
			}
		}
		if sid == "" && extra != nil {
			sid, uin = extra.Get("sid"), parseInt(extra.Get("uin"))
		}
		switch {
		case sid != "":
			sess = s.sessions[sid]
		case skey != "":
			sess = s.bySkey[skey]
		}
		if sess == nil || (uin != 0 && uin != sess.uin) || (skey != "" && skey != sess.skey) {
			return nil, deny(retSessionInvalid)
		}
	}
	if need == needDataTicket {
		// A client that logged in twice may still hold the stale ticket (under a
		// domain the new login did not overwrite) and send both, stale first.
		// Refusing that was a deviation from the real server: one right ticket is
		// enough.
		cookies := c.r.CookiesNamed("webwx_data_ticket")
		switch {
		case st.RequireCookies:
			if !hasValue(cookies, sess.dataTicket) {
				return sess, deny(retCookieInvalid)
			}
		case len(cookies) == 0:
			dt := c.q.Get("webwx_data_ticket")
			if dt == "" && extra != nil {
				dt = extra.Get("webwx_data_ticket")
			}
			if dt != "" && dt != sess.dataTicket {
				return sess, deny(retCookieInvalid)
			}
		}
	}
	if st.CheckHost && !sameFamily(c.host(), sess.host) {
		return sess, deny(retSessionNoExist)
	}
	now := s.now()
	if !sess.dead && st.SessionIdleExpiryS > 0 && now.Sub(sess.lastSeen) > time.Duration(st.SessionIdleExpiryS)*time.Second {
		s.log.Info().Str("account", sess.acct.wxid).Msg("session expired after idle time")
		sess.kill(retSessionInvalid)
	}
	// The timer normally ends the session; this covers a request that arrives at the
	// deadline before the timer ran, and clocks without timers.
	s.endIfDue(sess)
	if sess.dead {
		return sess, sess.deadAs
	}
	sess.lastSeen = now
	return sess, denial{}
}

func hasValue(cookies []*http.Cookie, v string) bool {
	for _, ck := range cookies {
		if ck.Value == v {
			return true
		}
	}
	return false
}

// sameFamily reports whether host is the web host of the session or one of its
// webpush./file. siblings (§1.1).
func sameFamily(host, web string) bool {
	return host == web || host == "webpush."+web || host == "file."+web
}

const cookieTime = "Mon, 02-Jan-2006 15:04:05 GMT"

// setCookie writes a Set-Cookie in the capture's form (§9.1).
func (s *Server) setCookie(c *call, name, value, domain string, ttl time.Duration, secure bool) {
	line := fmt.Sprintf("%s=%s; Domain=%s; Path=/; Expires=%s", name, value, domain, s.now().Add(ttl).UTC().Format(cookieTime))
	if secure {
		line += "; Secure"
	}
	c.w.Header().Add("Set-Cookie", line)
}

// setSessionCookies issues the session cookies; login adds the device cookies.
func (s *Server) setSessionCookies(c *call, sess *session, secure bool, atSync bool) {
	web := sess.host
	const day = 24 * time.Hour
	if atSync {
		s.setCookie(c, "wxloadtime", strconv.FormatInt(sess.loginTime, 10)+"_expired", web, 12*time.Hour, secure)
		s.setCookie(c, "wxpluginkey", strconv.FormatInt(sess.loginTime, 10), web, 12*time.Hour, secure)
		s.setCookie(c, "wxuin", strconv.FormatInt(sess.uin, 10), web, 3*day+12*time.Hour, secure)
	} else {
		s.setCookie(c, "wxuin", strconv.FormatInt(sess.uin, 10), web, 12*time.Hour, secure)
	}
	s.setCookie(c, "wxsid", sess.sid, web, 12*time.Hour, secure)
	if !atSync {
		s.setCookie(c, "wxloadtime", strconv.FormatInt(sess.loginTime, 10), web, 12*time.Hour, secure)
		s.setCookie(c, "mm_lang", "zh_CN", web, 12*time.Hour, secure)
	}
	s.setCookie(c, "webwx_data_ticket", sess.dataTicket, hostFamilyDataDomain(web), 12*time.Hour, secure)
}

// decodeAuthed decodes a JSON API body into req and authenticates its BaseRequest (br
// points into req). On failure it has already answered, with Ret 1 for a body that is
// not JSON and the denial's Ret otherwise, and returns nil.
func (s *Server) decodeAuthed(c *call, req any, br *protoclient.BaseRequest) *session {
	if err := json.Unmarshal(c.body, req); err != nil {
		s.writeJSON(c, errorBody(c.name, retParam))
		return nil
	}
	sess, code := s.authenticate(c, br, needSession, nil)
	if code.Ret != 0 {
		s.writeJSON(c, errorBody(c.name, code.Ret))
		return nil
	}
	return sess
}
