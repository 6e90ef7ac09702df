package wxsim

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// The control face (README.md): JSON in, JSON out, errors as 4xx
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

// controlPrefix is where the control API lives.
const controlPrefix = "/_wxsim/v1"

// controlRoute is one call of the control API: method, path below controlPrefix, and
// the handler, which works under the lock and returns (status, answer).
type controlRoute struct {
	method, path string
	handle       func(*Server, *http.Request) (int, any, error)
}

// controlRoutes are all the calls the control API serves. README.md in this directory
// documents each; a test holds the two together.
var controlRoutes = []controlRoute{
	{"POST", "/accounts", (*Server).ctlCreateAccount},
	{"GET", "/accounts", (*Server).ctlListAccounts},
	{"GET", "/accounts/{wxid}", (*Server).ctlGetAccount},
	{"PATCH", "/accounts/{wxid}", (*Server).ctlUpdateAccount},
	{"POST", "/accounts/{wxid}/contacts", (*Server).ctlAddContact},
	{"GET", "/accounts/{wxid}/contacts", (*Server).ctlListContacts},
	{"PATCH", "/accounts/{wxid}/contacts/{cwxid}", (*Server).ctlUpdateContact},
	{"DELETE", "/accounts/{wxid}/contacts/{cwxid}", (*Server).ctlDeleteContact},
	{"POST", "/accounts/{wxid}/groups", (*Server).ctlCreateGroup},
	{"GET", "/accounts/{wxid}/groups", (*Server).ctlListGroups},
	{"GET", "/accounts/{wxid}/groups/{gid}", (*Server).ctlGetGroup},
	{"PATCH", "/accounts/{wxid}/groups/{gid}", (*Server).ctlUpdateGroup},
	{"POST", "/accounts/{wxid}/groups/{gid}/members", (*Server).ctlGroupMembers},
	{"GET", "/logins", (*Server).ctlLogins},
	{"POST", "/logins/{uuid}/{action}", (*Server).ctlLoginAction},
	{"POST", "/accounts/{wxid}/push-login/confirm", (*Server).ctlPushConfirm},
	{"POST", "/accounts/{wxid}/logout", (*Server).ctlLogout},
	{"POST", "/accounts/{wxid}/incoming", (*Server).ctlIncoming},
	{"POST", "/accounts/{wxid}/from-phone", (*Server).ctlFromPhone},
	{"POST", "/accounts/{wxid}/revoke", (*Server).ctlRevoke},
	{"POST", "/accounts/{wxid}/friend-request", (*Server).ctlFriendRequest},
	{"POST", "/accounts/{wxid}/sync-raw", (*Server).ctlSyncRaw},
	{"GET", "/accounts/{wxid}/sent", (*Server).ctlSent},
	{"GET", "/accounts/{wxid}/revoked", (*Server).ctlRevoked},
	{"GET", "/accounts/{wxid}/marked-read", (*Server).ctlMarkedRead},
	{"GET", "/accounts/{wxid}/friend-requests", (*Server).ctlFriendRequests},
	{"POST", "/faults", (*Server).ctlAddFault},
	{"GET", "/faults", (*Server).ctlListFaults},
	{"DELETE", "/faults/{id}", (*Server).ctlDeleteFault},
	{"DELETE", "/faults", (*Server).ctlClearFaults},
	{"PATCH", "/settings", (*Server).ctlPatchSettings},
	{"GET", "/settings", (*Server).ctlGetSettings},
	{"GET", "/stats", (*Server).ctlStats},
	{"DELETE", "/stats", (*Server).ctlResetStats},
}

func (s *Server) controlMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range controlRoutes {
		mux.HandleFunc(rt.method+" "+controlPrefix+rt.path, s.ctl(func(r *http.Request) (int, any, error) { return rt.handle(s, r) }))
	}
	mux.Handle("GET "+phonePath, phoneHandler())
	mux.HandleFunc(controlPrefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeCtl(w, http.StatusNotFound, map[string]string{"error": "no such control call: " + r.Method + " " + r.URL.Path})
	})
	return mux
}
