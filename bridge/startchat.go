package bridge

import (
	"context"
	"errors"
	"fmt"
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
)

// GroupTypeWeChat is the one kind of group WeChat has, as named in the provisioning
// capabilities and the create-group command.
const GroupTypeWeChat = "group"

// minGroupOthers: webwxcreatechatroom needs at least two people besides the user (§4.18).
const minGroupOthers = 2

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
		info := c.dmChatInfo(ctx, f.contact, f.id)
		// Muted as on the phone. Not tagged: bridgev2 would tag the room before the user
		// is in it, which Synapse refuses (pinNewRoom), and start-chat has no later step.
		info.UserLocal = phoneState(f.contact)
		info.UserLocal.Tag = nil
		resp.Chat = &bridgev2.CreateChatResponse{
			PortalKey:  portal.MakePortalKey(f.id, c.Login.ID),
			PortalInfo: info,
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
func (c *WeChatClient) groupMembers(ctx context.Context, participants []networkid.UserID) ([]protoclient.UserName, error) {
	self := c.wx.SelfUserName()
	var names []protoclient.UserName
	var unknown []string
	seen := map[protoclient.UserName]bool{}
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
		return nil, failure("these are not in your WeChat contacts, so they cannot be put in a WeChat group: " + strings.Join(unknown, ", "))
	}
	if len(names) < minGroupOthers {
		return nil, failure(fmt.Sprintf("WeChat needs at least %d other people to create a group (you chose %d).", minGroupOthers, len(names)))
	}
	return names, nil
}

// defaultGroupTopic names a group created without a name after its first members, as
// WeChat shows unnamed groups. A name matters: WeChat gives a new group no permanent id,
// and the bridge tells groups without one apart by name.
func (c *WeChatClient) defaultGroupTopic(members []protoclient.UserName) string {
	var names []string
	for _, u := range members {
		if ct := c.dir.contact(u); ct != nil {
			if n := ct.NickName; n != "" {
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
		return nil, failure("WeChat said the group was created but did not name it; look on your phone")
	}
	ct := c.fetchNewGroup(ctx, res, topic)
	gid, proven := c.dir.stableID(ct.UserName)
	log.Info().Str("user_name", string(ct.UserName)).Str("group_id", string(gid)).Bool("id_proven", proven).
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
	zerolog.Ctx(ctx).Warn().Err(err).Str("user_name", string(res.ChatRoomName)).Msg("No details of the new WeChat group; using the create answer")
	members := append([]protoclient.Member{{UserName: c.wx.SelfUserName(), NickName: c.Login.RemoteName}}, res.MemberList...)
	c.dir.addContacts([]protoclient.Contact{{
		UserName:    res.ChatRoomName,
		NickName:    topic,
		ContactFlag: 1,
		Statues:     1, // a new group notifies
		MemberCount: len(members),
		MemberList:  members,
		IsOwner:     1,
	}})
	return c.dir.contact(res.ChatRoomName)
}

// notAdded: the members that the create answer does not list, or lists with a
// MemberStatus (WeChat sets one for people it could not add, e.g. who blocked the user).
func notAdded(asked []protoclient.UserName, got []protoclient.Member) []protoclient.UserName {
	if len(got) == 0 {
		// Some servers answer without the list; nothing to tell.
		return nil
	}
	ok := map[protoclient.UserName]bool{}
	for _, m := range got {
		if m.MemberStatus == 0 {
			ok[m.UserName] = true
		}
	}
	var out []protoclient.UserName
	for _, u := range asked {
		if !ok[u] {
			out = append(out, u)
		}
	}
	return out
}
