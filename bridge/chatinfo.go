package bridge

import (
	"context"
	"fmt"
	"slices"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/event"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

func (c *WeChatClient) GetChatInfo(ctx context.Context, p *bridgev2.Portal) (*bridgev2.ChatInfo, error) {
	if portal.IsOfficialAccountsPortal(p.ID) {
		return c.officialAccountsChatInfo(), nil
	}
	id := portal.ParsePortalID(p.ID)
	ct := c.dir.byStableID(id)
	var info *bridgev2.ChatInfo
	if portal.IsGroupID(id) {
		if ct == nil {
			return nil, fmt.Errorf("group %s is not in the current WeChat session", id)
		}
		info = c.groupChatInfo(ct)
	} else {
		info = c.dmChatInfo(ctx, ct, id)
	}
	if p.MXID == "" && ct != nil {
		// A new room starts muted and pinned as the chat is on the phone. Later resyncs
		// leave that alone: the user may have changed it in Matrix since (muting has no
		// way back to WeChat), and what WeChat changes arrives in ModContactList.
		info.UserLocal = phoneState(ct)
		// The favourite tag waits until the user is in the room (pinNewRoom).
		info.UserLocal.Tag = nil
		if meta, ok := p.Metadata.(*PortalMetadata); ok && ct.Pinned() {
			// bridgev2 saves the portal with the room it makes from this info.
			meta.FavouritePending = true
		}
	}
	return info, nil
}

// pinNewRoom tags the room made for a pinned chat as a favourite. bridgev2 tags a new
// room before the user's double puppet has joined it, which Synapse refuses ("has no
// membership in room"); this runs after each event of the room, when the user is in it,
// until the tag is set: a bridge stopped between making the room and tagging it tags it
// after the next event of that chat.
func (c *WeChatClient) pinNewRoom(ctx context.Context, p *bridgev2.Portal) {
	meta, ok := p.Metadata.(*PortalMetadata)
	if !ok || !meta.FavouritePending || p.MXID == "" {
		return
	}
	if !slices.Contains(c.Main.Bridge.Config.OnlyBridgeTags, event.RoomTagFavourite) {
		meta.FavouritePending = false
	} else if dp := c.Login.User.DoublePuppet(ctx); dp == nil {
		return
	} else if err := dp.TagRoom(ctx, p.MXID, event.RoomTagFavourite, true); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not mark the room of a pinned chat as a favourite; trying again at its next event")
		return
	}
	meta.FavouritePending = false
	if err := p.Save(ctx); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Saving the portal after tagging it failed")
	}
}

// phoneChanges is what the phone changed between two states of a chat with a room, or
// nil: only a changed setting is applied again. Putting a room's mute rule a second time
// is not harmless: Dendrite replaces the rule with a disabled one, unmuting the room.
func phoneChanges(before, ct *protoclient.Contact) *bridgev2.UserLocalPortalInfo {
	if before == nil || (before.Muted() == ct.Muted() && before.Pinned() == ct.Pinned()) {
		return nil
	}
	ul := phoneState(ct)
	if before.Muted() == ct.Muted() {
		ul.MutedUntil = nil
	}
	if before.Pinned() == ct.Pinned() {
		ul.Tag = nil
	}
	return ul
}

// phoneState is how the chat is set on the phone, for the user's own view of the room
// (bridgev2 applies it with double puppeting): muted for good or not at all, and the
// m.favourite tag for a pinned chat.
func phoneState(ct *protoclient.Contact) *bridgev2.UserLocalPortalInfo {
	ul := &bridgev2.UserLocalPortalInfo{MutedUntil: ptr(bridgev2.Unmuted), Tag: ptr(event.RoomTag(""))}
	if ct.Muted() {
		ul.MutedUntil = ptr(event.MutedForever)
	}
	if ct.Pinned() {
		ul.Tag = ptr(event.RoomTagFavourite)
	}
	return ul
}

// me is the user as a member of a room; their own ghost gets the account's name and avatar.
func (c *WeChatClient) me() bridgev2.ChatMember {
	return bridgev2.ChatMember{EventSender: bridgev2.EventSender{IsFromMe: true, SenderLogin: c.Login.ID, Sender: c.selfID()},
		UserInfo: c.selfUserInfo()}
}

// dmChatInfo: only the user is in a DM room, so it may carry their private remark name.
//
// The contact's ghost is brought up to date first: bridgev2 names a DM room after its
// ghost (private_chat_portal_meta) when the room is created, and a ghost updated only
// with the room's members would give the room its name and avatar afterwards, as
// "changed the room name" lines, and an invite that shows only the bridge bot.
func (c *WeChatClient) dmChatInfo(ctx context.Context, ct *protoclient.Contact, id protoclient.WxID) *bridgev2.ChatInfo {
	other := portal.MakeUserID(id)
	members := bridgev2.ChatMemberMap{}
	me := c.me()
	// The invite says it is a DM: clients list the room under people, and add it to
	// m.direct when the user accepts.
	me.MemberEventExtra = map[string]any{"is_direct": true}
	members.Set(me)
	otherMember := bridgev2.ChatMember{EventSender: bridgev2.EventSender{Sender: other}}
	if ct != nil {
		otherMember.UserInfo = c.contactUserInfo(ct, id)
		if ghost, err := c.Main.Bridge.GetGhostByID(ctx, other); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Str("ghost_id", string(other)).Msg("Getting a DM's ghost failed")
		} else {
			ghost.UpdateInfo(ctx, otherMember.UserInfo)
		}
	}
	members.Set(otherMember)
	info := &bridgev2.ChatInfo{
		Type:    ptr(database.RoomTypeDM),
		Members: &bridgev2.ChatMemberList{IsFull: true, OtherUserID: other, MemberMap: members, PowerLevels: &bridgev2.PowerLevelOverrides{Events: map[event.Type]int{setRelayPowerEvent: 0}}},
	}
	switch {
	case ct == nil || !c.Main.Config.RemarkNamesInDMs:
	case ct.RemarkName != "":
		// A name of the room's own stops bridgev2 from following the ghost: the avatar
		// must come along.
		info.Name = ptr(ct.RemarkName)
		info.Avatar = c.avatar(id, ct.HeadImgUrl)
	default:
		// No remark (any more): the room follows the contact's ghost again.
		info.Name = bridgev2.DefaultChatName
	}
	return info
}

func (c *WeChatClient) groupChatInfo(ct *protoclient.Contact) *bridgev2.ChatInfo {
	name := c.Main.Config.FormatGroupName(GroupNameParams{Name: ct.NickName})
	gid, _ := c.dir.stableID(ct.UserName)
	info := &bridgev2.ChatInfo{
		Name:   &name,
		Type:   ptr(database.RoomTypeDefault),
		Avatar: c.avatar(gid, ct.HeadImgUrl),
	}
	if len(ct.MemberList) == 0 {
		return info
	}
	self := c.wx.SelfUserName()
	members := bridgev2.ChatMemberMap{}
	for _, m := range ct.MemberList {
		if m.UserName == self {
			members.Set(c.me())
			continue
		}
		id := c.dir.memberID(ct.UserName, m.UserName)
		cm := bridgev2.ChatMember{EventSender: bridgev2.EventSender{Sender: portal.MakeUserID(id)}}
		if full := c.dir.contact(m.UserName); full != nil {
			cm.UserInfo = c.contactUserInfo(full, id)
		} else {
			cm.UserInfo = c.memberUserInfo(m, id)
		}
		if dn := m.DisplayName; dn != "" {
			cm.Nickname = &dn
		}
		members.Set(cm)
	}
	// The user is a member of every group their session shows, even when the list the
	// server sent did not include them.
	members.Set(c.me())
	info.Members = &bridgev2.ChatMemberList{IsFull: true, TotalMemberCount: max(ct.MemberCount, len(members)), MemberMap: members,
		// Any member may rename a WeChat group (unless its owner restricted that, which
		// WeChat then refuses): the user may set the room's name, which renames the group.
		PowerLevels: &bridgev2.PowerLevelOverrides{Events: map[event.Type]int{event.StateRoomName: 0, setRelayPowerEvent: 0}}}
	return info
}

// setRelayPowerEvent is the pretend state event whose power level bridgev2's set-relay
// command asks of the room. Portals give the user no power level (WeChat has no Matrix
// moderators), so at the default of 50 only bridge admins could let their login relay.
// At 0 the room no longer decides: in a portal of one login, set-relay accepts only
// that login, from its owner or an admin, and so does unset-relay
// (mautrixfix.UnsetRelayInSplitPortals). README, "Relay mode".
var setRelayPowerEvent = event.Type{Type: "fi.mau.bridge.set_relay", Class: event.StateEventType}

func ptr[T any](v T) *T { return &v }
