package bridge

import (
	"context"
	"fmt"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

func (c *WeChatClient) GetChatInfo(ctx context.Context, p *bridgev2.Portal) (*bridgev2.ChatInfo, error) {
	id := portal.ParsePortalID(p.ID)
	ct := c.dir.byStableID(id)
	if portal.IsGroupID(id) {
		if ct == nil {
			return nil, fmt.Errorf("group %s is not in the current WeChat session", id)
		}
		return c.groupChatInfo(ct), nil
	}
	return c.dmChatInfo(ct, id), nil
}

func (c *WeChatClient) me() bridgev2.ChatMember {
	return bridgev2.ChatMember{EventSender: bridgev2.EventSender{IsFromMe: true, SenderLogin: c.Login.ID, Sender: c.selfID()}}
}

// dmChatInfo: only the user is in a DM room, so it may carry their private remark name.
func (c *WeChatClient) dmChatInfo(ct *protoclient.Contact, id protoclient.WxID) *bridgev2.ChatInfo {
	other := portal.MakeUserID(id)
	members := bridgev2.ChatMemberMap{}
	members.Set(c.me())
	otherMember := bridgev2.ChatMember{EventSender: bridgev2.EventSender{Sender: other}}
	if ct != nil {
		otherMember.UserInfo = c.contactUserInfo(ct, id)
	}
	members.Set(otherMember)
	info := &bridgev2.ChatInfo{
		Type:    ptr(database.RoomTypeDM),
		Members: &bridgev2.ChatMemberList{IsFull: true, OtherUserID: other, MemberMap: members},
	}
	if ct != nil && c.Main.Config.RemarkNamesInDMs && ct.RemarkName != "" {
		info.Name = ptr(ct.RemarkName)
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
	info.Members = &bridgev2.ChatMemberList{IsFull: true, TotalMemberCount: max(ct.MemberCount, len(members)), MemberMap: members}
	return info
}

func ptr[T any](v T) *T { return &v }
