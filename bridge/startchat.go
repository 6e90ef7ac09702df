package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/networkid"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

var (
	_ bridgev2.IdentifierResolvingNetworkAPI = (*WeChatClient)(nil)
	_ bridgev2.ContactListingNetworkAPI      = (*WeChatClient)(nil)
	_ bridgev2.UserSearchingNetworkAPI       = (*WeChatClient)(nil)
	_ bridgev2.GroupCreatingNetworkAPI       = (*WeChatClient)(nil)
	_ bridgev2.MembershipHandlingNetworkAPI  = (*WeChatClient)(nil)
)

// GroupTypeWeChat is the one kind of group WeChat has, as named in the provisioning
// capabilities and the create-group command.
const GroupTypeWeChat = "group"

// minGroupOthers: webwxcreatechatroom needs at least two people besides the user (§4.18).
const minGroupOthers = 2

// inviteStartCount is the group size from which WeChat wants members invited (they
// accept first) instead of added directly (init InviteStartCount, §4.19).
const inviteStartCount = 40

// maxSearchResults bounds what a search returns; a query of one letter matches most of
// a contact list.
const maxSearchResults = 50

// provisioningCapabilities is what the provisioning API and the start-chat, search and
// create-group commands may offer for WeChat.
func provisioningCapabilities() bridgev2.ProvisioningCapabilities {
	return bridgev2.ProvisioningCapabilities{
		ResolveIdentifier: bridgev2.ResolveIdentifierCapabilities{
			CreateDM:       true,
			LookupUsername: true,
			ContactList:    true,
			Search:         true,
		},
		GroupCreation: map[string]bridgev2.GroupTypeCapabilities{
			GroupTypeWeChat: {
				TypeDescription: "a WeChat group chat",
				Name:            bridgev2.GroupFieldCapability{Allowed: true},
				Participants: bridgev2.GroupFieldCapability{
					Allowed:   true,
					Required:  true,
					MinLength: minGroupOthers,
				},
			},
		},
	}
}

// friend is a person in the user's WeChat contact list: someone a DM can be started with.
type friend struct {
	userName string           // session UserName, to send to
	id       protoclient.WxID // stable id, the ghost's
	contact  *protoclient.Contact
}

func (f friend) nickname() string { return protoclient.DecodeName(f.contact.NickName) }
func (f friend) remark() string   { return protoclient.DecodeName(f.contact.RemarkName) }

// label names a friend for people: remark (nickname), WeChat ID.
func (f friend) label() string {
	name := f.nickname()
	if r := f.remark(); r != "" && r != name {
		name = r + " (" + name + ")"
	}
	if name == "" {
		name = string(f.id)
	}
	return name + " — " + string(f.id)
}

// isFriend: a person in the contact list (ContactFlag CONTACT, §6.3), not a group, an
// official account or a special account (filehelper, weixin, fmessage…), and not the
// user.
func isFriend(ct *protoclient.Contact, self string) bool {
	return ct != nil && ct.UserName != self &&
		strings.HasPrefix(ct.UserName, "@") && !ct.IsGroup() &&
		!ct.IsOfficialAccount() && ct.ContactFlag&1 != 0
}

// friends lists the user's WeChat friends in the directory, sorted by what the user
// sees them as.
func (d *directory) friends() []friend {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]friend, 0, len(d.contacts))
	for u, ct := range d.contacts {
		if !isFriend(ct, d.self) {
			continue
		}
		id, _ := d.stableIDLocked(u)
		if id == "" {
			continue
		}
		out = append(out, friend{userName: u, id: id, contact: ct})
	}
	slices.SortFunc(out, func(a, b friend) int {
		if c := strings.Compare(strings.ToLower(a.sortName()), strings.ToLower(b.sortName())); c != 0 {
			return c
		}
		return strings.Compare(string(a.id), string(b.id))
	})
	return out
}

func (f friend) sortName() string {
	if r := f.remark(); r != "" {
		return r
	}
	return f.nickname()
}

// errAmbiguous says which contacts share a name, so the user can pick one by id.
type errAmbiguous struct {
	query   string
	matches []friend
}

func (e *errAmbiguous) Error() string {
	labels := make([]string, len(e.matches))
	for i, m := range e.matches {
		labels[i] = m.label()
	}
	return fmt.Sprintf("%d WeChat contacts match %q: %s. Use the WeChat ID of the one you mean.",
		len(e.matches), e.query, strings.Join(labels, "; "))
}

// resolveFriend finds the one contact an identifier names: its stable id (wxid, with or
// without "wechat:"), its WeChat ID (alias), its remark name or its nickname, each
// compared exactly but without regard to case, in that order. Nobody is nil; more than
// one contact with the same name is an *errAmbiguous — never a guess.
func (d *directory) resolveFriend(identifier string) (*friend, error) {
	q := strings.TrimSpace(identifier)
	q = strings.TrimSpace(strings.TrimPrefix(q, "wechat:"))
	if q == "" {
		return nil, nil
	}
	all := d.friends()
	tiers := []func(f friend) bool{
		func(f friend) bool { return strings.EqualFold(string(f.id), q) },
		func(f friend) bool { return f.contact.Alias != "" && strings.EqualFold(f.contact.Alias, q) },
		func(f friend) bool { return f.remark() != "" && strings.EqualFold(f.remark(), q) },
		func(f friend) bool { return f.nickname() != "" && strings.EqualFold(f.nickname(), q) },
	}
	for _, match := range tiers {
		var found []friend
		for _, f := range all {
			if match(f) {
				found = append(found, f)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return &found[0], nil
		default:
			return nil, &errAmbiguous{query: q, matches: found}
		}
	}
	// Special accounts that are normal chat targets are reachable by name, though not
	// listed as contacts.
	if strings.EqualFold(q, "filehelper") {
		d.mu.RLock()
		defer d.mu.RUnlock()
		ct := d.contacts["filehelper"]
		if ct == nil {
			ct = &protoclient.Contact{UserName: "filehelper", NickName: "File Transfer"}
		}
		return &friend{userName: "filehelper", id: "filehelper", contact: ct}, nil
	}
	return nil, nil
}

// searchFriends returns the friends whose nickname, remark name, WeChat ID or id
// contains the query, without regard to case.
func (d *directory) searchFriends(query string) []friend {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil
	}
	var out []friend
	for _, f := range d.friends() {
		for _, s := range []string{f.nickname(), f.remark(), f.contact.Alias, string(f.id)} {
			if s != "" && strings.Contains(strings.ToLower(s), q) {
				out = append(out, f)
				break
			}
		}
		if len(out) >= maxSearchResults {
			break
		}
	}
	return out
}

// ResolveIdentifier finds a WeChat contact by wxid, WeChat ID, remark name or nickname
// and, with createChat, gives the DM portal to create.
func (c *WeChatClient) ResolveIdentifier(ctx context.Context, identifier string, createChat bool) (*bridgev2.ResolveIdentifierResponse, error) {
	f, err := c.dir.resolveFriend(identifier)
	var amb *errAmbiguous
	if errors.As(err, &amb) {
		return nil, bridgev2.RespError(mautrix.MInvalidParam.WithMessage("%s", amb.Error()))
	} else if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, nil
	}
	return c.friendResponse(ctx, *f, createChat)
}

func (c *WeChatClient) friendResponse(ctx context.Context, f friend, createChat bool) (*bridgev2.ResolveIdentifierResponse, error) {
	userID := portal.MakeUserID(f.id)
	ghost, err := c.Main.Bridge.GetGhostByID(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("get ghost of %s: %w", f.id, err)
	}
	resp := &bridgev2.ResolveIdentifierResponse{
		Ghost:    ghost,
		UserID:   userID,
		UserInfo: c.contactUserInfo(f.contact, f.id),
	}
	if createChat {
		resp.Chat = &bridgev2.CreateChatResponse{
			PortalKey:  portal.MakePortalKey(f.id, c.Login.ID),
			PortalInfo: c.dmChatInfo(f.contact, f.id),
		}
	}
	return resp, nil
}

// GetContactList is every friend in the WeChat contact list.
func (c *WeChatClient) GetContactList(ctx context.Context) ([]*bridgev2.ResolveIdentifierResponse, error) {
	return c.friendResponses(ctx, c.dir.friends())
}

// SearchUsers searches the contact list; WeChat web cannot search beyond it.
func (c *WeChatClient) SearchUsers(ctx context.Context, query string) ([]*bridgev2.ResolveIdentifierResponse, error) {
	return c.friendResponses(ctx, c.dir.searchFriends(query))
}

func (c *WeChatClient) friendResponses(ctx context.Context, fs []friend) ([]*bridgev2.ResolveIdentifierResponse, error) {
	out := make([]*bridgev2.ResolveIdentifierResponse, 0, len(fs))
	for _, f := range fs {
		r, err := c.friendResponse(ctx, f, false)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ---------------------------------------------------------------------------------------
// Creating groups

// groupMembers turns the participants of a group to create into session UserNames,
// without the user and without duplicates. Who is not a WeChat contact is an error
// naming them: a WeChat group cannot be created with them.
func (c *WeChatClient) groupMembers(ctx context.Context, participants []networkid.UserID) ([]string, error) {
	self := c.wx.SelfUserName()
	var names, unknown []string
	seen := map[string]bool{}
	for _, p := range participants {
		if c.IsThisUser(ctx, p) {
			continue
		}
		u := c.dir.userName(portal.ParseUserID(p))
		if u == "" || !isFriend(c.dir.contact(u), self) {
			unknown = append(unknown, string(p))
			continue
		}
		if !seen[u] {
			seen[u] = true
			names = append(names, u)
		}
	}
	if len(unknown) > 0 {
		return nil, failure("These are not in your WeChat contacts, so they cannot be put in a WeChat group: " + strings.Join(unknown, ", "))
	}
	if len(names) < minGroupOthers {
		return nil, failure(fmt.Sprintf("WeChat needs at least %d other people to create a group (you chose %d).", minGroupOthers, len(names)))
	}
	return names, nil
}

// defaultGroupTopic names a group created without a name after its first members, as
// WeChat shows unnamed groups. A name matters: WeChat gives a new group no permanent id,
// and the bridge tells groups without one apart by name.
func (c *WeChatClient) defaultGroupTopic(members []string) string {
	var names []string
	for _, u := range members {
		if ct := c.dir.contact(u); ct != nil {
			if n := protoclient.DecodeName(ct.NickName); n != "" {
				names = append(names, n)
			}
		}
		if len(names) == 3 {
			break
		}
	}
	if self := c.Login.RemoteName; self != "" {
		names = append([]string{self}, names...)
	}
	return strings.Join(names, "、")
}

// CreateGroup creates a WeChat group (webwxcreatechatroom) with the participants and
// returns its portal; with params.RoomID, that Matrix room becomes the portal.
func (c *WeChatClient) CreateGroup(ctx context.Context, params *bridgev2.GroupCreateParams) (*bridgev2.CreateChatResponse, error) {
	log := zerolog.Ctx(ctx).With().Str("action", "create wechat group").Logger()
	if !c.IsLoggedIn() {
		return nil, errNotConnected
	}
	if params.Type != "" && params.Type != GroupTypeWeChat {
		return nil, failure(fmt.Sprintf("WeChat has no %q groups; use %q.", params.Type, GroupTypeWeChat))
	}
	members, err := c.groupMembers(ctx, params.Participants)
	if err != nil {
		return nil, err
	}
	topic := ""
	if params.Name != nil {
		topic = strings.TrimSpace(params.Name.Name)
	}
	if topic == "" {
		topic = c.defaultGroupTopic(members)
	}
	res, err := c.wx.CreateChatRoom(ctx, topic, members)
	if err != nil {
		log.Err(err).Int("members", len(members)).Msg("webwxcreatechatroom failed")
		return nil, chatRoomFailure(err, "create the group")
	}
	if res.ChatRoomName == "" {
		return nil, failure("WeChat said the group was created but did not name it; look on your phone.")
	}
	ct := c.fetchNewGroup(ctx, res, topic)
	gid, proven := c.dir.stableID(ct.UserName)
	log.Info().Str("user_name", ct.UserName).Str("group_id", string(gid)).Bool("id_proven", proven).
		Int("members", len(ct.MemberList)).Msg("Created WeChat group")
	key := portal.MakePortalKey(gid, c.Login.ID)
	info := c.groupChatInfo(ct)
	resp := &bridgev2.CreateChatResponse{PortalKey: key, PortalInfo: info}
	if failed := notAdded(members, res.MemberList); len(failed) > 0 {
		resp.FailedParticipants = map[networkid.UserID]*bridgev2.CreateChatFailedParticipant{}
		for _, u := range failed {
			if id, _ := c.dir.stableID(u); id != "" {
				resp.FailedParticipants[portal.MakeUserID(id)] = &bridgev2.CreateChatFailedParticipant{Reason: "WeChat did not add them to the group"}
			}
		}
	}
	if params.RoomID != "" {
		p, err := c.Main.Bridge.GetPortalByKey(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("get portal of the new group: %w", err)
		}
		err = p.UpdateMatrixRoomID(ctx, params.RoomID, bridgev2.UpdateMatrixRoomIDParams{
			FailIfMXIDSet:  true,
			ChatInfo:       info,
			ChatInfoSource: c.Login,
		})
		if err != nil {
			return nil, fmt.Errorf("bridge the room to the new group: %w", err)
		}
		resp.Portal = p
	}
	return resp, nil
}

// fetchNewGroup learns the new group's details (webwxbatchgetcontact); if WeChat does
// not give them yet, what webwxcreatechatroom answered has to do.
func (c *WeChatClient) fetchNewGroup(ctx context.Context, res *protoclient.ChatRoomResponse, topic string) *protoclient.Contact {
	details, err := c.wx.BatchGetUsers(ctx, res.ChatRoomName)
	for i := range details {
		if details[i].UserName == res.ChatRoomName {
			if details[i].NickName == "" {
				details[i].NickName = topic
			}
			c.dir.addContacts(details[i : i+1])
			return c.dir.contact(res.ChatRoomName)
		}
	}
	zerolog.Ctx(ctx).Warn().Err(err).Str("user_name", res.ChatRoomName).Msg("No details of the new WeChat group; using the create answer")
	members := append([]protoclient.Member{{UserName: c.wx.SelfUserName(), NickName: c.Login.RemoteName}}, res.MemberList...)
	c.dir.addContacts([]protoclient.Contact{{
		UserName:    res.ChatRoomName,
		NickName:    topic,
		ContactFlag: 1,
		MemberCount: len(members),
		MemberList:  members,
		IsOwner:     1,
	}})
	return c.dir.contact(res.ChatRoomName)
}

// notAdded: the members that the create answer does not list, or lists with a
// MemberStatus (WeChat sets one for people it could not add, e.g. who blocked the user).
func notAdded(asked []string, got []protoclient.Member) []string {
	if len(got) == 0 {
		// Some servers answer without the list; nothing to tell.
		return nil
	}
	ok := map[string]bool{}
	for _, m := range got {
		if m.MemberStatus == 0 {
			ok[m.UserName] = true
		}
	}
	var out []string
	for _, u := range asked {
		if !ok[u] {
			out = append(out, u)
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------
// Membership

// addMemberFunc picks how to add people to a group: directly while it is small, by an
// invitation they accept from a size on, as the official web client does (§4.19:
// current members plus new ones ≥ 40).
func addMemberFunc(members, adding int) string {
	if members+adding >= inviteStartCount {
		return protoclient.ChatRoomInviteMember
	}
	return protoclient.ChatRoomAddMember
}

// chatRoomFailure explains a failed group change: what a refusal (Ret 1) means for
// group changes, and the rest as for any call.
func chatRoomFailure(err error, what string) error {
	var ae *protoclient.APIError
	switch {
	case errors.As(err, &ae) && ae.Refused() && what == "remove them":
		return failure("only the group owner can remove members from a WeChat group")
	case errors.As(err, &ae) && ae.Refused():
		return failure("WeChat refused to " + what + " (they must be your WeChat contacts, and the group must allow it)")
	default:
		return wechatFailure(err, what)
	}
}

var (
	errMembershipNotSupported = failure("WeChat does not support that change of membership from Matrix; make it on your phone.")
	errDMMembership           = failure("A WeChat direct chat is always between two people; create a group to add more.")
	errNotWeChatUser          = failure("Only your WeChat contacts can be added to a WeChat group.")
	errLeaveNotSupported      = failure("Leaving a WeChat group is not possible from Matrix; leave it on your phone.")
)

// HandleMatrixMembership adds WeChat contacts invited to a group portal to the group
// (webwxupdatechatroom addmember/invitemember) and removes kicked ones (delmember, which
// only the owner may). Everything else is refused visibly, except the user's own joins,
// which need nothing on WeChat.
func (c *WeChatClient) HandleMatrixMembership(ctx context.Context, msg *bridgev2.MatrixMembershipChange) (*bridgev2.MatrixMembershipResult, error) {
	switch msg.Type {
	case bridgev2.AcceptInvite, bridgev2.Join, bridgev2.ProfileChange:
		// The user entering or renaming themselves in the Matrix room: WeChat is not involved.
		return nil, nil
	case bridgev2.Leave:
		return nil, errLeaveNotSupported
	case bridgev2.Invite, bridgev2.Kick, bridgev2.RevokeInvite:
	default:
		return nil, errMembershipNotSupported
	}
	groupID := portal.ParsePortalID(msg.Portal.ID)
	if !portal.IsGroupID(groupID) {
		return nil, errDMMembership
	}
	ghost, ok := msg.Target.(*bridgev2.Ghost)
	if !ok || ghost == nil {
		return nil, errNotWeChatUser
	}
	if !c.IsLoggedIn() {
		return nil, errNotConnected
	}
	room := c.dir.userName(groupID)
	group := c.dir.contact(room)
	if room == "" || group == nil {
		return nil, failure("This group is not in the current WeChat session.")
	}
	target := portal.ParseUserID(ghost.ID)
	log := zerolog.Ctx(ctx).With().Str("group_id", string(groupID)).Str("target_id", string(target)).Logger()
	if msg.Type == bridgev2.Invite {
		u := c.dir.userName(target)
		if u == "" || !isFriend(c.dir.contact(u), c.wx.SelfUserName()) {
			return nil, errNotWeChatUser
		}
		fun := addMemberFunc(max(group.MemberCount, len(group.MemberList)), 1)
		if _, err := c.wx.UpdateChatRoom(ctx, room, fun, []string{u}, ""); err != nil {
			log.Err(err).Str("fun", fun).Msg("Adding a WeChat group member failed")
			return nil, chatRoomFailure(err, "add them")
		}
		log.Info().Str("fun", fun).Msg("Added a member to a WeChat group")
		return nil, nil
	}
	// Kick, or taking back an invitation (addmember made them a member at once).
	u := c.groupMemberUserName(room, target)
	if u == "" {
		return nil, failure("They are not a member of this WeChat group.")
	}
	if _, err := c.wx.UpdateChatRoom(ctx, room, protoclient.ChatRoomDelMember, []string{u}, ""); err != nil {
		log.Err(err).Msg("Removing a WeChat group member failed")
		return nil, chatRoomFailure(err, "remove them")
	}
	log.Info().Msg("Removed a member from a WeChat group")
	return nil, nil
}

// groupMemberUserName finds the session UserName of a group member by their ghost id.
func (c *WeChatClient) groupMemberUserName(room string, ghostID protoclient.WxID) string {
	if g := c.dir.contact(room); g != nil {
		for _, m := range g.MemberList {
			if c.dir.memberID(room, m.UserName) == ghostID {
				return m.UserName
			}
		}
		if u := c.dir.userName(ghostID); u != "" {
			for _, m := range g.MemberList {
				if m.UserName == u {
					return u
				}
			}
		}
	}
	return ""
}
