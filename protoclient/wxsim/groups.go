package wxsim

import (
	"slices"
	"strings"

	"wxbridge/protoclient"
)

// Group changes, from the phone's world (control API) or from the client
// (webwxupdatechatroom §4.19, webwxcreatechatroom §4.18). Each change is a
// ModContactList entry with the full group plus the grey MsgType 10000 text that real
// members see (§5.4.8).

type chatRoomAnswer struct {
	BaseResponse protoclient.BaseResponse `json:"BaseResponse"`
	Topic        string                   `json:"Topic"`
	PYInitial    string                   `json:"PYInitial"`
	QuanPin      string                   `json:"QuanPin"`
	MemberCount  int                      `json:"MemberCount"`
	MemberList   []protoclient.Member     `json:"MemberList"`
	ChatRoomName protoclient.UserName     `json:"ChatRoomName"`
	BlackList    string                   `json:"BlackList"`
}

type updateAnswer struct {
	BaseResponse protoclient.BaseResponse `json:"BaseResponse"`
	MemberCount  int                      `json:"MemberCount"`
	MemberList   []protoclient.Member     `json:"MemberList"`
}

// sysText queues a grey system line in a chat; callers hold s.mu.
func (s *Server) sysText(a *account, chat, text string) {
	id, nid := newMsgID()
	a.append(&event{kind: evMsg, msg: &msgEvent{
		id: id, newID: nid, msgType: protoclient.MsgSys, from: chat, to: a.wxid,
		body: encodeText(text), status: 4, imgStatus: 1, created: s.now().Unix(),
	}})
}

func quoteNames(a *account, g *group, ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = `"` + a.displayName(id, g) + `"`
	}
	return strings.Join(q, "、")
}

// actor chooses who made a change the control API did not attribute: the owner if
// that is someone else, else another member, else the account itself.
func actor(a *account, g *group, by string) string {
	if by != "" {
		return by
	}
	if g.owner != "" && g.owner != a.wxid {
		return g.owner
	}
	for _, m := range g.members {
		if m != a.wxid {
			return m
		}
	}
	return a.wxid
}

// renameGroup; callers hold s.mu.
func (s *Server) renameGroup(a *account, g *group, by, name string) {
	g.name = name
	a.append(&event{kind: evModContact, id: g.id})
	if by == a.wxid {
		s.sysText(a, g.id, "你修改群名为“"+name+"”")
	} else {
		s.sysText(a, g.id, `"`+a.displayName(by, g)+`"修改群名为“`+name+"”")
	}
}

// changeMembers adds and removes members; callers hold s.mu. It returns the ids that
// were actually added.
func (s *Server) changeMembers(a *account, g *group, by string, add, remove []string) []string {
	var added, removed []string
	for _, id := range add {
		if id == "" || g.has(id) {
			continue
		}
		if id != a.wxid {
			a.personFor(id)
		}
		g.members = append(g.members, id)
		added = append(added, id)
	}
	for _, id := range remove {
		if !g.has(id) {
			continue
		}
		kept := g.members[:0:0]
		for _, m := range g.members {
			if m != id {
				kept = append(kept, m)
			}
		}
		g.members = kept
		removed = append(removed, id)
	}
	if len(added) == 0 && len(removed) == 0 {
		return nil
	}
	a.append(&event{kind: evModContact, id: g.id})
	if len(added) > 0 {
		var others []string
		selfAdded := false
		for _, id := range added {
			if id == a.wxid {
				selfAdded = true
			} else {
				others = append(others, id)
			}
		}
		switch {
		case by == a.wxid:
			s.sysText(a, g.id, "你邀请"+quoteNames(a, g, others)+"加入了群聊")
		case selfAdded && len(others) > 0:
			s.sysText(a, g.id, `"`+a.displayName(by, g)+`"邀请你和`+quoteNames(a, g, others)+"加入了群聊")
		case selfAdded:
			s.sysText(a, g.id, `"`+a.displayName(by, g)+`"邀请你加入了群聊`)
		default:
			s.sysText(a, g.id, `"`+a.displayName(by, g)+`"邀请`+quoteNames(a, g, others)+"加入了群聊")
		}
	}
	for _, id := range removed {
		switch {
		case by == a.wxid:
			s.sysText(a, g.id, "你将"+quoteNames(a, g, []string{id})+"移出了群聊")
		case id == a.wxid:
			s.sysText(a, g.id, `你被"`+a.displayName(by, g)+`"移出群聊`)
		}
		// Removals by others are silent for third parties, as on the phone.
	}
	return added
}

func splitNames(sess *session, list string) []string {
	var ids []string
	for _, n := range strings.Split(list, ",") {
		if id := sess.idOf(protoclient.UserName(strings.TrimSpace(n))); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

func (s *Server) handleUpdateChatRoom(c *call) {
	var req protoclient.UpdateChatRoomRequest
	sess := s.decodeAuthed(c, &req, &req.BaseRequest)
	if sess == nil {
		return
	}
	fail := func(ret int) {
		s.writeJSON(c, updateAnswer{BaseResponse: protoclient.BaseResponse{Ret: ret}, MemberList: []protoclient.Member{}})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := sess.acct
	g := a.groups[sess.idOf(req.ChatRoomName)]
	if g == nil {
		fail(retParam)
		return
	}
	if !g.has(a.wxid) {
		fail(retNotInGroup)
		return
	}
	var changed []string
	switch c.q.Get("fun") {
	case "addmember", "invitemember":
		list := req.AddMemberList
		if list == "" {
			list = req.InviteMemberList
		}
		ids := splitNames(sess, list)
		if len(ids) == 0 {
			fail(retParam)
			return
		}
		changed = s.changeMembers(a, g, a.wxid, ids, nil)
	case "delmember":
		if g.owner != a.wxid {
			fail(retParam)
			return
		}
		ids := splitNames(sess, req.DelMemberList)
		if len(ids) == 0 {
			fail(retParam)
			return
		}
		s.changeMembers(a, g, a.wxid, nil, ids)
	case "modtopic":
		s.renameGroup(a, g, a.wxid, req.NewTopic)
	case "quitchatroom":
		// Leaving is silent; the group disappears from the contact list.
		g.members = slices.DeleteFunc(slices.Clone(g.members), func(m string) bool { return m == a.wxid })
		a.append(&event{kind: evDelContact, id: g.id})
	default:
		fail(retParam)
		return
	}
	ans := updateAnswer{MemberList: []protoclient.Member{}}
	for _, m := range s.members(sess, g) {
		for _, id := range changed {
			if sess.idOf(m.UserName) == id {
				ans.MemberList = append(ans.MemberList, m)
			}
		}
	}
	ans.MemberCount = len(ans.MemberList)
	s.writeJSON(c, ans)
}

func (s *Server) handleCreateChatRoom(c *call) {
	var req protoclient.CreateChatRoomRequest
	sess := s.decodeAuthed(c, &req, &req.BaseRequest)
	if sess == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := sess.acct
	var ids []string
	for _, m := range req.MemberList {
		if id := sess.idOf(m.UserName); id != "" && id != a.wxid && !isGroupID(id) && !isSpecial(id) {
			ids = append(ids, id)
		}
	}
	// The web needs at least two others to create a group (§4.18).
	if len(ids) < 2 {
		s.writeJSON(c, errorBody(c.name, retParam))
		return
	}
	g := &group{id: newChatroomID(), name: req.Topic, members: []string{a.wxid}, display: map[string]string{}, owner: a.wxid}
	a.groups[g.id] = g
	a.groupOrder = append(a.groupOrder, g.id)
	added := s.changeMembers(a, g, a.wxid, ids, nil)
	s.log.Info().Str("account", a.wxid).Str("group", g.id).Int("members", len(g.members)).Msg("group created by client")
	ans := chatRoomAnswer{
		BaseResponse: protoclient.BaseResponse{ErrMsg: "Everything is OK"},
		Topic:        req.Topic, MemberList: []protoclient.Member{}, ChatRoomName: sess.userName(g.id),
	}
	for _, m := range s.members(sess, g) {
		if id := sess.idOf(m.UserName); id != a.wxid {
			for _, x := range added {
				if x == id {
					ans.MemberList = append(ans.MemberList, m)
				}
			}
		}
	}
	ans.MemberCount = len(ans.MemberList)
	s.writeJSON(c, ans)
}
