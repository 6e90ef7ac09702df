package wxsim

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Accounts, contacts and groups (the contract's world setup).

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
		in.LoggedIn, in.UserName = true, string(a.live.selfName)
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
	return s.onAccount(r, func(a *account) (int, any, error) {
		return http.StatusOK, s.info(a), nil
	})
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
	return s.onAccount(r, func(a *account) (int, any, error) {
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
	})
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
	// Pinned and Muted are the chat's ContactFlag bits TOPCONTACT and NOTIFYCLOSECONTACT;
	// VerifyFlag makes the contact an official account (8, 24; §6.1).
	Pinned     *bool `json:"pinned,omitempty"`
	Muted      *bool `json:"muted,omitempty"`
	VerifyFlag *int  `json:"verify_flag,omitempty"`
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
	setBool(&p.pinned, in.Pinned)
	setBool(&p.muted, in.Muted)
	if in.VerifyFlag != nil {
		p.verifyFlag = *in.VerifyFlag
	}
	return nil
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func (s *Server) ctlAddContact(r *http.Request) (int, any, error) {
	var in ContactSpec
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Wxid == "" {
		return 0, nil, badRequest{"wxid is required"}
	}
	return s.onAccount(r, func(a *account) (int, any, error) {
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
	})
}

// ContactInfo is an entry of GET /accounts/{wxid}/contacts (extension).
type ContactInfo struct {
	Wxid       string `json:"wxid"`
	Nickname   string `json:"nickname"`
	RemarkName string `json:"remark_name"`
	UserName   string `json:"username"`
	Pinned     bool   `json:"pinned"`
	Muted      bool   `json:"muted"`
	VerifyFlag int    `json:"verify_flag"`
}

func (s *Server) ctlListContacts(r *http.Request) (int, any, error) {
	return s.onAccount(r, func(a *account) (int, any, error) {
		out := []ContactInfo{}
		for _, p := range a.friends() {
			out = append(out, ContactInfo{Wxid: p.wxid, Nickname: p.nickname, RemarkName: p.remark, UserName: s.liveName(a, p.wxid),
				Pinned: p.pinned, Muted: p.muted, VerifyFlag: p.verifyFlag})
		}
		return http.StatusOK, out, nil
	})
}

func (s *Server) ctlUpdateContact(r *http.Request) (int, any, error) {
	var in ContactSpec
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	return s.onAccount(r, func(a *account) (int, any, error) {
		p := a.people[r.PathValue("cwxid")]
		if p == nil || !p.friend {
			return 0, nil, notFound{"no contact " + r.PathValue("cwxid")}
		}
		if err := in.apply(p); err != nil {
			return 0, nil, err
		}
		a.append(&event{kind: evModContact, id: p.wxid})
		return http.StatusOK, map[string]string{"username": s.liveName(a, p.wxid)}, nil
	})
}

func (s *Server) ctlDeleteContact(r *http.Request) (int, any, error) {
	return s.onAccount(r, func(a *account) (int, any, error) {
		p := a.people[r.PathValue("cwxid")]
		if p == nil || !p.friend {
			return 0, nil, notFound{"no contact " + r.PathValue("cwxid")}
		}
		p.friend = false
		a.friendOrder = slices.DeleteFunc(slices.Clone(a.friendOrder), func(id string) bool { return id == p.wxid })
		a.append(&event{kind: evDelContact, id: p.wxid})
		return http.StatusOK, ok, nil
	})
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
	Pinned       bool              `json:"pinned,omitempty"`
	Muted        bool              `json:"muted,omitempty"`
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
	return s.onAccount(r, func(a *account) (int, any, error) {
		if in.ID == "" {
			in.ID = newChatroomID()
		}
		if !strings.HasSuffix(in.ID, "@chatroom") {
			return 0, nil, badRequest{"a group id ends with @chatroom"}
		}
		if a.groups[in.ID] != nil {
			return 0, nil, conflict{"group " + in.ID + " exists"}
		}
		g := &group{id: in.ID, name: in.Name, members: []string{a.wxid}, display: map[string]string{}, owner: orDefault(in.Owner, a.wxid), avatar: avatar,
			pinned: in.Pinned, muted: in.Muted}
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
	})
}

// GroupInfo is the answer of GET groups/{gid} and an entry of GET groups (extensions).
// Nicknames are the members' nicknames as the account knows them (the account's own
// included), so that a page can name members who are not contacts.
type GroupInfo struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Owner        string            `json:"owner"`
	Members      []string          `json:"members"`
	DisplayNames map[string]string `json:"display_names"`
	Nicknames    map[string]string `json:"nicknames"`
	UserName     string            `json:"username"`
	Pinned       bool              `json:"pinned"`
	Muted        bool              `json:"muted"`
}

func (s *Server) groupInfo(a *account, g *group) GroupInfo {
	nicks := map[string]string{}
	for _, m := range g.members {
		switch p := a.people[m]; {
		case m == a.wxid:
			nicks[m] = a.nickname
		case p != nil:
			nicks[m] = p.nickname
		}
	}
	return GroupInfo{ID: g.id, Name: g.name, Owner: g.owner, Members: append([]string{}, g.members...),
		DisplayNames: maps.Clone(g.display), Nicknames: nicks, UserName: s.liveName(a, g.id),
		Pinned: g.pinned, Muted: g.muted}
}

func (s *Server) ctlGetGroup(r *http.Request) (int, any, error) {
	return s.onGroup(r, func(a *account, g *group) (int, any, error) {
		return http.StatusOK, s.groupInfo(a, g), nil
	})
}

// ctlListGroups answers GET /accounts/{wxid}/groups (extension): the groups the account
// is a member of, in the order they were made.
func (s *Server) ctlListGroups(r *http.Request) (int, any, error) {
	return s.onAccount(r, func(a *account) (int, any, error) {
		out := []GroupInfo{}
		for _, g := range a.memberGroups() {
			out = append(out, s.groupInfo(a, g))
		}
		return http.StatusOK, out, nil
	})
}

// GroupUpdate is the body of PATCH groups/{gid}; By (who did it; default the owner or
// another member), AvatarBase64 and DisplayNames are extensions.
type GroupUpdate struct {
	Name         *string           `json:"name,omitempty"`
	By           string            `json:"by,omitempty"`
	AvatarBase64 *string           `json:"avatar_base64,omitempty"`
	DisplayNames map[string]string `json:"display_names,omitempty"`
	Pinned       *bool             `json:"pinned,omitempty"`
	Muted        *bool             `json:"muted,omitempty"`
}

func (s *Server) ctlUpdateGroup(r *http.Request) (int, any, error) {
	var in GroupUpdate
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	return s.onGroup(r, func(a *account, g *group) (int, any, error) {
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
		if in.Pinned != nil || in.Muted != nil {
			setBool(&g.pinned, in.Pinned)
			setBool(&g.muted, in.Muted)
			changed = true
		}
		if in.Name != nil && *in.Name != g.name {
			s.renameGroup(a, g, actor(a, g, in.By), *in.Name)
		} else if changed {
			a.append(&event{kind: evModContact, id: g.id})
		}
		return http.StatusOK, ok, nil
	})
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
	return s.onGroup(r, func(a *account, g *group) (int, any, error) {
		for k, v := range in.DisplayNames {
			g.display[k] = v
		}
		s.changeMembers(a, g, actor(a, g, in.By), in.Add, in.Remove)
		return http.StatusOK, ok, nil
	})
}
