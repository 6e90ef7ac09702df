package wxsim

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// The control face (wxsim-control.md): JSON in, JSON out, errors as 4xx
// {"error":"…"}. IDs are stable WeChat ids.

type notFound struct{ msg string }

func (e notFound) Error() string { return e.msg }

type conflict struct{ msg string }

func (e conflict) Error() string { return e.msg }

func writeCtl(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(marshalJSON(v), '\n'))
}

func ctlError(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	var nf notFound
	var cf conflict
	switch {
	case errors.As(err, &nf):
		status = http.StatusNotFound
	case errors.As(err, &cf):
		status = http.StatusConflict
	}
	writeCtl(w, status, map[string]string{"error": err.Error()})
}

// decode reads a JSON body; an empty body is an empty object. Unknown fields are
// refused so that a typo in a test does not silently do nothing.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return badRequest{"cannot read body"}
	}
	if strings.TrimSpace(string(b)) == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest{"bad JSON body: " + err.Error()}
	}
	return nil
}

func decodeB64(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, badRequest{"avatar_base64 is not base64"}
	}
	return b, nil
}

// ctl wraps a control handler that works under the lock and returns (status, answer).
func (s *Server) ctl(fn func(r *http.Request) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, v, err := fn(r)
		if err != nil {
			ctlError(w, err)
			return
		}
		writeCtl(w, status, v)
	}
}

// acct finds the account of the path; callers hold s.mu.
func (s *Server) acct(r *http.Request) (*account, error) {
	a := s.accounts[r.PathValue("wxid")]
	if a == nil {
		return nil, notFound{"no account " + r.PathValue("wxid")}
	}
	return a, nil
}

// onAccount runs fn with s.mu held on the account the path names, or answers 404.
func (s *Server) onAccount(r *http.Request, fn func(a *account) (int, any, error)) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	return fn(a)
}

// onGroup is onAccount for the group the path names ({gid}), or 404.
func (s *Server) onGroup(r *http.Request, fn func(a *account, g *group) (int, any, error)) (int, any, error) {
	return s.onAccount(r, func(a *account) (int, any, error) {
		g := a.groups[r.PathValue("gid")]
		if g == nil {
			return 0, nil, notFound{"no group " + r.PathValue("gid")}
		}
		return fn(a, g)
	})
}

func (s *Server) liveName(a *account, id string) string {
	if a.live == nil {
		return ""
	}
	return string(a.live.userName(id))
}

var ok = map[string]bool{"ok": true}

func (s *Server) controlMux() *http.ServeMux {
	mux := http.NewServeMux()
	const p = "/_wxsim/v1"
	mux.HandleFunc("POST "+p+"/accounts", s.ctl(s.ctlCreateAccount))
	mux.HandleFunc("GET "+p+"/accounts", s.ctl(s.ctlListAccounts))
	mux.HandleFunc("GET "+p+"/accounts/{wxid}", s.ctl(s.ctlGetAccount))
	mux.HandleFunc("PATCH "+p+"/accounts/{wxid}", s.ctl(s.ctlUpdateAccount))
	mux.HandleFunc("POST "+p+"/accounts/{wxid}/contacts", s.ctl(s.ctlAddContact))
	mux.HandleFunc("GET "+p+"/accounts/{wxid}/contacts", s.ctl(s.ctlListContacts))
	mux.HandleFunc("PATCH "+p+"/accounts/{wxid}/contacts/{cwxid}", s.ctl(s.ctlUpdateContact))
	mux.HandleFunc("DELETE "+p+"/accounts/{wxid}/contacts/{cwxid}", s.ctl(s.ctlDeleteContact))
	mux.HandleFunc("POST "+p+"/accounts/{wxid}/groups", s.ctl(s.ctlCreateGroup))
	mux.HandleFunc("GET "+p+"/accounts/{wxid}/groups", s.ctl(s.ctlListGroups))
	mux.HandleFunc("GET "+p+"/accounts/{wxid}/groups/{gid}", s.ctl(s.ctlGetGroup))
	mux.HandleFunc("PATCH "+p+"/accounts/{wxid}/groups/{gid}", s.ctl(s.ctlUpdateGroup))
	mux.HandleFunc("POST "+p+"/accounts/{wxid}/groups/{gid}/members", s.ctl(s.ctlGroupMembers))
	mux.HandleFunc("GET "+p+"/logins", s.ctl(s.ctlLogins))
	mux.HandleFunc("POST "+p+"/logins/{uuid}/{action}", s.ctl(s.ctlLoginAction))
	mux.HandleFunc("POST "+p+"/accounts/{wxid}/push-login/confirm", s.ctl(s.ctlPushConfirm))
	mux.HandleFunc("POST "+p+"/accounts/{wxid}/logout", s.ctl(s.ctlLogout))
	mux.HandleFunc("POST "+p+"/accounts/{wxid}/incoming", s.ctl(s.ctlIncoming))
	mux.HandleFunc("POST "+p+"/accounts/{wxid}/from-phone", s.ctl(s.ctlFromPhone))
	mux.HandleFunc("POST "+p+"/accounts/{wxid}/revoke", s.ctl(s.ctlRevoke))
	mux.HandleFunc("POST "+p+"/accounts/{wxid}/friend-request", s.ctl(s.ctlFriendRequest))
	mux.HandleFunc("POST "+p+"/accounts/{wxid}/sync-raw", s.ctl(s.ctlSyncRaw))
	mux.HandleFunc("GET "+p+"/accounts/{wxid}/sent", s.ctl(s.ctlSent))
	mux.HandleFunc("GET "+p+"/accounts/{wxid}/revoked", s.ctl(s.ctlRevoked))
	mux.HandleFunc("GET "+p+"/accounts/{wxid}/marked-read", s.ctl(s.ctlMarkedRead))
	mux.HandleFunc("GET "+p+"/accounts/{wxid}/friend-requests", s.ctl(s.ctlFriendRequests))
	mux.HandleFunc("POST "+p+"/faults", s.ctl(s.ctlAddFault))
	mux.HandleFunc("GET "+p+"/faults", s.ctl(s.ctlListFaults))
	mux.HandleFunc("DELETE "+p+"/faults/{id}", s.ctl(s.ctlDeleteFault))
	mux.HandleFunc("DELETE "+p+"/faults", s.ctl(s.ctlClearFaults))
	mux.HandleFunc("PATCH "+p+"/settings", s.ctl(s.ctlPatchSettings))
	mux.HandleFunc("GET "+p+"/settings", s.ctl(s.ctlGetSettings))
	mux.HandleFunc("GET "+p+"/stats", s.ctl(s.ctlStats))
	mux.HandleFunc("DELETE "+p+"/stats", s.ctl(s.ctlResetStats))
	mux.Handle("GET "+phonePath, phoneHandler())
	mux.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		writeCtl(w, http.StatusNotFound, map[string]string{"error": "no such control call: " + r.Method + " " + r.URL.Path})
	})
	return mux
}
