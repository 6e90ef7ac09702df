package wxsim

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
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

func (s *Server) liveName(a *account, id string) string {
	if a.live == nil {
		return ""
	}
	return a.live.userName(id)
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
	mux.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		writeCtl(w, http.StatusNotFound, map[string]string{"error": "no such control call: " + r.Method + " " + r.URL.Path})
	})
	return mux
}

// AccountSpec is the body of POST /accounts; AvatarBase64 is an extension.
type AccountSpec struct {
	Wxid         string `json:"wxid"`
	Nickname     string `json:"nickname,omitempty"`
	Uin          int64  `json:"uin,omitempty"`
	Host         string `json:"host,omitempty"`
	AvatarBase64 string `json:"avatar_base64,omitempty"`
}

// AccountInfo is the answer of GET /accounts/{wxid}.
type AccountInfo struct {
	Wxid     string `json:"wxid"`
	Uin      int64  `json:"uin"`
	Nickname string `json:"nickname"`
	Host     string `json:"host"`
	LoggedIn bool   `json:"logged_in"`
	UserName string `json:"username"`
	Sessions int    `json:"sessions"`
}

func (s *Server) ctlCreateAccount(r *http.Request) (int, any, error) {
	var in AccountSpec
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Wxid == "" {
		return 0, nil, badRequest{"wxid is required"}
	}
	avatar, err := decodeB64(in.AvatarBase64)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[in.Wxid] != nil {
		return 0, nil, conflict{"account " + in.Wxid + " exists"}
	}
	if in.Uin == 0 {
		for in.Uin == 0 || s.accountByUin[in.Uin] != nil {
			in.Uin = parseInt(randDigits(9))
		}
	} else if s.accountByUin[in.Uin] != nil {
		return 0, nil, conflict{"uin " + strconv.FormatInt(in.Uin, 10) + " is taken"}
	}
	host := strings.ToLower(orDefault(in.Host, "wx.qq.com"))
	a := newAccount(in.Wxid, orDefault(in.Nickname, in.Wxid), in.Uin, host)
	a.avatar = avatar
	s.accounts[a.wxid] = a
	s.accountByUin[a.uin] = a
	s.log.Info().Str("account", a.wxid).Int64("uin", a.uin).Str("host", host).Msg("account created")
	return http.StatusCreated, map[string]any{"wxid": a.wxid, "uin": a.uin}, nil
}

func (s *Server) info(a *account) AccountInfo {
	in := AccountInfo{Wxid: a.wxid, Uin: a.uin, Nickname: a.nickname, Host: a.host, Sessions: a.sessionCount}
	if a.live != nil {
		in.LoggedIn, in.UserName = true, a.live.selfName
	}
	return in
}

func (s *Server) ctlListAccounts(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []AccountInfo{}
	for _, a := range s.accounts {
		out = append(out, s.info(a))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Wxid < out[j].Wxid })
	return http.StatusOK, out, nil
}

func (s *Server) ctlGetAccount(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.info(a), nil
}

// ProfileUpdate is the body of PATCH /accounts/{wxid} (extension): the user changed
// their profile on the phone; the session gets a Profile with BitFlag 190.
type ProfileUpdate struct {
	Nickname     *string `json:"nickname,omitempty"`
	AvatarBase64 *string `json:"avatar_base64,omitempty"`
}

func (s *Server) ctlUpdateAccount(r *http.Request) (int, any, error) {
	var in ProfileUpdate
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	if in.AvatarBase64 != nil {
		b, err := decodeB64(*in.AvatarBase64)
		if err != nil {
			return 0, nil, err
		}
		a.avatar = b
	}
	if in.Nickname != nil {
		a.nickname = *in.Nickname
	}
	a.append(&event{kind: evProfile})
	return http.StatusOK, s.info(a), nil
}

// ContactSpec is the body of POST/PATCH contacts; the last group are extensions.
type ContactSpec struct {
	Wxid         string  `json:"wxid,omitempty"`
	Nickname     *string `json:"nickname,omitempty"`
	RemarkName   *string `json:"remark_name,omitempty"`
	Sex          *int    `json:"sex,omitempty"`
	Signature    *string `json:"signature,omitempty"`
	AvatarBase64 *string `json:"avatar_base64,omitempty"`

	Province *string `json:"province,omitempty"`
	City     *string `json:"city,omitempty"`
	Alias    *string `json:"alias,omitempty"`
}

func (in *ContactSpec) apply(p *person) error {
	if in.AvatarBase64 != nil {
		b, err := decodeB64(*in.AvatarBase64)
		if err != nil {
			return err
		}
		p.avatar = b
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.nickname, in.Nickname)
	set(&p.remark, in.RemarkName)
	set(&p.signature, in.Signature)
	set(&p.province, in.Province)
	set(&p.city, in.City)
	set(&p.alias, in.Alias)
	if in.Sex != nil {
		p.sex = *in.Sex
	}
	return nil
}

func (s *Server) ctlAddContact(r *http.Request) (int, any, error) {
	var in ContactSpec
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Wxid == "" {
		return 0, nil, badRequest{"wxid is required"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	if in.Wxid == a.wxid || isSpecial(in.Wxid) || strings.HasSuffix(in.Wxid, "@chatroom") {
		return 0, nil, badRequest{in.Wxid + " cannot be a contact"}
	}
	if p := a.people[in.Wxid]; p != nil && p.friend {
		return 0, nil, conflict{in.Wxid + " is already a contact"}
	}
	p := a.personFor(in.Wxid)
	if err := in.apply(p); err != nil {
		return 0, nil, err
	}
	a.addFriend(p)
	a.append(&event{kind: evModContact, id: p.wxid})
	return http.StatusCreated, map[string]string{"username": s.liveName(a, p.wxid)}, nil
}

// ContactInfo is an entry of GET /accounts/{wxid}/contacts (extension).
type ContactInfo struct {
	Wxid       string `json:"wxid"`
	Nickname   string `json:"nickname"`
	RemarkName string `json:"remark_name"`
	UserName   string `json:"username"`
}

func (s *Server) ctlListContacts(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	out := []ContactInfo{}
	for _, p := range a.friends() {
		out = append(out, ContactInfo{Wxid: p.wxid, Nickname: p.nickname, RemarkName: p.remark, UserName: s.liveName(a, p.wxid)})
	}
	return http.StatusOK, out, nil
}

func (s *Server) ctlUpdateContact(r *http.Request) (int, any, error) {
	var in ContactSpec
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	p := a.people[r.PathValue("cwxid")]
	if p == nil || !p.friend {
		return 0, nil, notFound{"no contact " + r.PathValue("cwxid")}
	}
	if err := in.apply(p); err != nil {
		return 0, nil, err
	}
	a.append(&event{kind: evModContact, id: p.wxid})
	return http.StatusOK, map[string]string{"username": s.liveName(a, p.wxid)}, nil
}

func (s *Server) ctlDeleteContact(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	p := a.people[r.PathValue("cwxid")]
	if p == nil || !p.friend {
		return 0, nil, notFound{"no contact " + r.PathValue("cwxid")}
	}
	p.friend = false
	order := a.friendOrder[:0:0]
	for _, id := range a.friendOrder {
		if id != p.wxid {
			order = append(order, id)
		}
	}
	a.friendOrder = order
	a.append(&event{kind: evDelContact, id: p.wxid})
	return http.StatusOK, ok, nil
}

// GroupSpec is the body of POST groups; Owner and AvatarBase64 are extensions (the
// owner defaults to the account, so that the client may remove members).
type GroupSpec struct {
	ID           string            `json:"id,omitempty"`
	Name         string            `json:"name,omitempty"`
	Members      []string          `json:"members,omitempty"`
	DisplayNames map[string]string `json:"display_names,omitempty"`
	Owner        string            `json:"owner,omitempty"`
	AvatarBase64 string            `json:"avatar_base64,omitempty"`
}

func (s *Server) ctlCreateGroup(r *http.Request) (int, any, error) {
	var in GroupSpec
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	avatar, err := decodeB64(in.AvatarBase64)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	if in.ID == "" {
		in.ID = newChatroomID()
	}
	if !strings.HasSuffix(in.ID, "@chatroom") {
		return 0, nil, badRequest{"a group id ends with @chatroom"}
	}
	if a.groups[in.ID] != nil {
		return 0, nil, conflict{"group " + in.ID + " exists"}
	}
	g := &group{id: in.ID, name: in.Name, members: []string{a.wxid}, display: map[string]string{}, owner: orDefault(in.Owner, a.wxid), avatar: avatar}
	for _, m := range in.Members {
		if m != "" && !g.has(m) {
			a.personFor(m)
			g.members = append(g.members, m)
		}
	}
	for k, v := range in.DisplayNames {
		g.display[k] = v
	}
	a.groups[g.id] = g
	a.groupOrder = append(a.groupOrder, g.id)
	a.append(&event{kind: evModContact, id: g.id})
	return http.StatusCreated, map[string]string{"username": s.liveName(a, g.id)}, nil
}

// GroupInfo is the answer of GET groups/{gid} (extension).
type GroupInfo struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Owner        string            `json:"owner"`
	Members      []string          `json:"members"`
	DisplayNames map[string]string `json:"display_names"`
	UserName     string            `json:"username"`
}

func (s *Server) ctlGetGroup(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	g := a.groups[r.PathValue("gid")]
	if g == nil {
		return 0, nil, notFound{"no group " + r.PathValue("gid")}
	}
	return http.StatusOK, GroupInfo{ID: g.id, Name: g.name, Owner: g.owner, Members: append([]string{}, g.members...),
		DisplayNames: g.display, UserName: s.liveName(a, g.id)}, nil
}

// GroupUpdate is the body of PATCH groups/{gid}; By (who did it; default the owner or
// another member), AvatarBase64 and DisplayNames are extensions.
type GroupUpdate struct {
	Name         *string           `json:"name,omitempty"`
	By           string            `json:"by,omitempty"`
	AvatarBase64 *string           `json:"avatar_base64,omitempty"`
	DisplayNames map[string]string `json:"display_names,omitempty"`
}

func (s *Server) ctlUpdateGroup(r *http.Request) (int, any, error) {
	var in GroupUpdate
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	g := a.groups[r.PathValue("gid")]
	if g == nil {
		return 0, nil, notFound{"no group " + r.PathValue("gid")}
	}
	changed := false
	if in.AvatarBase64 != nil {
		b, err := decodeB64(*in.AvatarBase64)
		if err != nil {
			return 0, nil, err
		}
		g.avatar, changed = b, true
	}
	for k, v := range in.DisplayNames {
		g.display[k], changed = v, true
	}
	if in.Name != nil && *in.Name != g.name {
		s.renameGroup(a, g, actor(a, g, in.By), *in.Name)
	} else if changed {
		a.append(&event{kind: evModContact, id: g.id})
	}
	return http.StatusOK, ok, nil
}

// MembersChange is the body of POST groups/{gid}/members; By and DisplayNames are
// extensions.
type MembersChange struct {
	Add          []string          `json:"add,omitempty"`
	Remove       []string          `json:"remove,omitempty"`
	By           string            `json:"by,omitempty"`
	DisplayNames map[string]string `json:"display_names,omitempty"`
}

func (s *Server) ctlGroupMembers(r *http.Request) (int, any, error) {
	var in MembersChange
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	g := a.groups[r.PathValue("gid")]
	if g == nil {
		return 0, nil, notFound{"no group " + r.PathValue("gid")}
	}
	for k, v := range in.DisplayNames {
		g.display[k] = v
	}
	s.changeMembers(a, g, actor(a, g, in.By), in.Add, in.Remove)
	return http.StatusOK, ok, nil
}

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
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	for i := len(s.loginOrder) - 1; i >= 0; i-- {
		l := s.loginOrder[i]
		if l.push && l.wxid == a.wxid && l.state == stateScanned {
			s.confirm(l)
			return http.StatusOK, map[string]string{"uuid": l.uuid}, nil
		}
	}
	return 0, nil, notFound{"no pending push login for " + a.wxid}
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
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	if a.live == nil {
		return 0, nil, conflict{a.wxid + " is not logged in"}
	}
	a.live.kill(in.Retcode)
	s.log.Info().Str("account", a.wxid).Int("retcode", in.Retcode).Msg("session ended by control")
	return http.StatusOK, ok, nil
}

func (s *Server) ctlIncoming(r *http.Request) (int, any, error) {
	return s.worldMessage(r, (*Server).incoming)
}

func (s *Server) ctlFromPhone(r *http.Request) (int, any, error) {
	return s.worldMessage(r, (*Server).fromPhone)
}

func (s *Server) worldMessage(r *http.Request, fn func(*Server, *account, *WorldMessage) (*msgEvent, error)) (int, any, error) {
	var in WorldMessage
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Raw) > 0 && string(in.Raw) != "null" {
		if _, isObj := decodeObject(in.Raw); !isObj {
			return 0, nil, badRequest{"raw must be a JSON object"}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	m, err := fn(s, a, &in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]string{"msg_id": m.id, "new_msg_id": strconv.FormatInt(m.newID, 10)}, nil
}

func (s *Server) ctlRevoke(r *http.Request) (int, any, error) {
	var in struct {
		MsgID string `json:"msg_id"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.revokeByWorld(a, in.MsgID); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ok, nil
}

func (s *Server) ctlFriendRequest(r *http.Request) (int, any, error) {
	var in struct {
		From     string `json:"from"`
		Nickname string `json:"nickname"`
		Content  string `json:"content"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.From == "" {
		return 0, nil, badRequest{"from is required"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	fr := s.friendRequestByWorld(a, in.From, in.Nickname, in.Content)
	return http.StatusCreated, map[string]string{"msg_id": fr.MsgID, "ticket": fr.Ticket}, nil
}

func (s *Server) ctlSyncRaw(r *http.Request) (int, any, error) {
	var in SyncFragment
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Profile) > 0 {
		if _, isObj := decodeObject(in.Profile); !isObj {
			return 0, nil, badRequest{"Profile must be a JSON object"}
		}
	}
	for _, list := range [][]json.RawMessage{in.AddMsgList, in.ModContactList, in.DelContactList, in.ModChatRoomMemberList} {
		for _, m := range list {
			if _, isObj := decodeObject(m); !isObj {
				return 0, nil, badRequest{"every list entry must be a JSON object"}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	a.append(&event{kind: evRaw, raw: &in})
	return http.StatusOK, ok, nil
}

func (s *Server) ctlSent(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	out := make([]SentMessage, len(a.sent))
	for i, rec := range a.sent {
		out[i] = *rec
	}
	return http.StatusOK, out, nil
}

func (s *Server) ctlRevoked(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, append([]RevokeRecord{}, a.revoked...), nil
}

func (s *Server) ctlMarkedRead(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, append([]MarkRead{}, a.markedRead...), nil
}

func (s *Server) ctlFriendRequests(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.acct(r)
	if err != nil {
		return 0, nil, err
	}
	out := make([]FriendRequest, len(a.friendReqs))
	for i, f := range a.friendReqs {
		out[i] = *f
	}
	return http.StatusOK, out, nil
}

func (s *Server) ctlAddFault(r *http.Request) (int, any, error) {
	var f Fault
	if err := decode(r, &f); err != nil {
		return 0, nil, err
	}
	f.ID, f.Applied = "", 0
	if err := f.validate(); err != nil {
		return 0, nil, badRequest{err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq++
	f.ID = "f" + strconv.Itoa(s.faultSeq)
	s.faults = append(s.faults, &f)
	s.log.Info().Str("id", f.ID).Str("endpoint", f.Endpoint).Str("kind", f.Kind).Str("account", f.Account).Msg("fault added")
	return http.StatusCreated, map[string]string{"id": f.ID}, nil
}

func (s *Server) ctlListFaults(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, f := range s.faults {
		out[i] = *f
	}
	return http.StatusOK, out, nil
}

func (s *Server) ctlDeleteFault(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.ID == r.PathValue("id") {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			return http.StatusOK, ok, nil
		}
	}
	return 0, nil, notFound{"no fault " + r.PathValue("id")}
}

func (s *Server) ctlClearFaults(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	return http.StatusOK, ok, nil
}

func (s *Server) ctlPatchSettings(r *http.Request) (int, any, error) {
	var patch json.RawMessage
	if err := decode(r, &patch); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.settings
	if len(patch) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(patch)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&next); err != nil {
			return 0, nil, badRequest{"bad settings: " + err.Error()}
		}
	}
	if err := next.validate(); err != nil {
		return 0, nil, badRequest{err.Error()}
	}
	s.settings = next
	// Holds in progress re-read their limits only when woken; settings do not wake them.
	return http.StatusOK, s.settings, nil
}

func (s *Server) ctlGetSettings(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return http.StatusOK, s.settings, nil
}

// Stats is the answer of GET /stats.
type Stats struct {
	Requests map[string]int64 `json:"requests"`
}

func (s *Server) ctlStats(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{Requests: map[string]int64{}}
	for k, v := range s.stats {
		out.Requests[k] = v
	}
	return http.StatusOK, out, nil
}

func (s *Server) ctlResetStats(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = map[string]int64{}
	return http.StatusOK, ok, nil
}
