package wxsim

import (
	"fmt"
	"net/http"
)

// Logins: the phone's scan, confirm and cancel, push login, logout.

// LoginInfo is an entry of GET /logins; Wxid and Push are extensions.
type LoginInfo struct {
	UUID    string `json:"uuid"`
	State   string `json:"state"`
	Created int64  `json:"created"`
	Wxid    string `json:"wxid,omitempty"`
	Push    bool   `json:"push,omitempty"`
}

func (s *Server) ctlLogins(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []LoginInfo{}
	for i := len(s.loginOrder) - 1; i >= 0; i-- {
		l := s.loginOrder[i]
		s.expireIfDue(l)
		out = append(out, LoginInfo{UUID: l.uuid, State: l.state, Created: l.created.Unix(), Wxid: l.wxid, Push: l.push})
	}
	return http.StatusOK, out, nil
}

func (s *Server) confirm(l *login) {
	l.ticket = newTicket()
	l.scanTime = s.now().Unix()
	s.tickets[l.ticket] = l
	l.set(stateConfirmed)
}

func (s *Server) ctlLoginAction(r *http.Request) (int, any, error) {
	var in struct {
		Wxid string `json:"wxid"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.logins[r.PathValue("uuid")]
	if l == nil {
		return 0, nil, notFound{"no login " + r.PathValue("uuid")}
	}
	s.expireIfDue(l)
	action := r.PathValue("action")
	bad := conflict{fmt.Sprintf("cannot %s a login that is %s", action, l.state)}
	switch action {
	case "scan":
		if in.Wxid == "" {
			return 0, nil, badRequest{"wxid is required"}
		}
		if s.accounts[in.Wxid] == nil {
			return 0, nil, notFound{"no account " + in.Wxid}
		}
		if l.state != stateWaiting {
			return 0, nil, bad
		}
		l.wxid = in.Wxid
		l.set(stateScanned)
	case "confirm":
		// Confirming a waiting login with a wxid scans it too (extension).
		if l.state == stateWaiting && in.Wxid != "" && s.accounts[in.Wxid] != nil {
			l.wxid = in.Wxid
			l.state = stateScanned
		}
		if l.state != stateScanned {
			return 0, nil, bad
		}
		s.confirm(l)
	case "cancel", "expire":
		if terminal(l.state) {
			return 0, nil, bad
		}
		if action == "cancel" {
			l.set(stateCancelled)
		} else {
			l.set(stateExpired)
		}
	default:
		return 0, nil, notFound{"no login action " + action}
	}
	s.log.Info().Str("uuid", l.uuid).Str("action", action).Str("account", l.wxid).Msg("login changed by control")
	return http.StatusOK, ok, nil
}

func (s *Server) ctlPushConfirm(r *http.Request) (int, any, error) {
	return s.onAccount(r, func(a *account) (int, any, error) {
		for i := len(s.loginOrder) - 1; i >= 0; i-- {
			l := s.loginOrder[i]
			if l.push && l.wxid == a.wxid && l.state == stateScanned {
				s.confirm(l)
				return http.StatusOK, map[string]string{"uuid": l.uuid}, nil
			}
		}
		return 0, nil, notFound{"no pending push login for " + a.wxid}
	})
}

func (s *Server) ctlLogout(r *http.Request) (int, any, error) {
	var in struct {
		Retcode int `json:"retcode"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Retcode == 0 {
		in.Retcode = retSessionInvalid
	}
	return s.onAccount(r, func(a *account) (int, any, error) {
		if a.live == nil {
			return 0, nil, conflict{a.wxid + " is not logged in"}
		}
		a.live.kill(in.Retcode)
		s.log.Info().Str("account", a.wxid).Int("retcode", in.Retcode).Msg("session ended by control")
		return http.StatusOK, ok, nil
	})
}
