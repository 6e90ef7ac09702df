package bridge

import (
	"context"
	"strings"

	"maunium.net/go/mautrix/bridgev2"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

func (c *WeChatClient) GetUserInfo(ctx context.Context, ghost *bridgev2.Ghost) (*bridgev2.UserInfo, error) {
	id := portal.ParseUserID(ghost.ID)
	if ghost.ID == c.selfID() {
		return c.selfUserInfo(), nil
	}
	if ct := c.dir.byStableID(id); ct != nil {
		return c.contactUserInfo(ct, id), nil
	}
	if m, ok := c.dir.memberByID(id); ok {
		return c.memberUserInfo(m, id), nil
	}
	return nil, nil
}

// selfUserInfo is the account's own ghost: what the user's messages from the phone are
// sent as when there is no double puppet.
func (c *WeChatClient) selfUserInfo() *bridgev2.UserInfo {
	name := c.Login.RemoteName
	return &bridgev2.UserInfo{Name: &name, IsBot: ptr(false),
		Avatar: c.avatar(protoclient.WxID(c.selfID()), c.dir.selfAvatarURL())}
}

// contactUserInfo names a ghost after the contact's own nickname: a ghost is shared by
// every bridge user who knows this person, so the private remark name never goes here.
func (c *WeChatClient) contactUserInfo(ct *protoclient.Contact, id protoclient.WxID) *bridgev2.UserInfo {
	name := c.Main.Config.FormatDisplayname(DisplaynameParams{
		Nickname: ct.NickName,
		Alias:    ct.Alias,
		ID:       string(id),
	})
	return &bridgev2.UserInfo{Name: &name, IsBot: ptr(false), Identifiers: identifiers(id), Avatar: c.avatar(id, ct.HeadImgUrl)}
}

func (c *WeChatClient) memberUserInfo(m protoclient.Member, id protoclient.WxID) *bridgev2.UserInfo {
	name := c.Main.Config.FormatDisplayname(DisplaynameParams{Nickname: m.NickName, ID: string(id)})
	return &bridgev2.UserInfo{Name: &name, IsBot: ptr(false), Identifiers: identifiers(id)}
}

func identifiers(id protoclient.WxID) []string {
	if strings.HasPrefix(string(id), portal.ContactFallbackPrefix) || strings.HasPrefix(string(id), portal.MemberFallbackPrefix) {
		return nil
	}
	return []string{"wechat:" + string(id)}
}
