package bridge

import (
	"context"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/networkid"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

// Official accounts (公众号) write often and rarely expect an answer: a user following
// dozens of them would otherwise get dozens of rooms. network.official_accounts decides
// where they go; the special accounts (filehelper, weixin…) are chats of their own and
// never count as official accounts here.

const officialAccountsRoomName = "WeChat official accounts"

// errOfficialAccountsRoom: the shared room has no single chat to answer to.
var errOfficialAccountsRoom = failure("this room gathers all your official accounts, so a message here has no one to go to; " +
	"open the account's own chat with `start-chat <name>` and write there")

// chatRoute is where one WeChat chat's messages go.
type chatRoute struct {
	key networkid.PortalKey
	// lead names the chat in a room that several chats share.
	lead string
	drop bool
}

// routeChat sends an official account's messages to the shared room (in room mode),
// unless the account already has a room of its own: one the user opened with start-chat,
// or one made before the mode was switched, which keeps its conversation together.
func (c *WeChatClient) routeChat(ctx context.Context, chat protoclient.UserName, chatID protoclient.WxID, fromMe bool) chatRoute {
	own := chatRoute{key: portal.MakePortalKey(chatID, c.Login.ID)}
	ct := c.dir.contact(chat)
	if ct == nil || !ct.IsOfficialAccount() || isSpecialName(chat) {
		return own
	}
	switch c.Main.Config.OfficialAccounts {
	case OfficialAccountsIgnore:
		n := c.officialIgnored.Add(1)
		zerolog.Ctx(ctx).Debug().Str("chat_id", string(chatID)).Int64("ignored_so_far", n).
			Msg("Not bridging an official account's message (official_accounts: ignore)")
		return chatRoute{drop: true}
	case OfficialAccountsRoom:
		if p, err := c.Main.Bridge.GetExistingPortalByKey(ctx, own.key); err == nil && p != nil && p.MXID != "" {
			return own
		}
		name := ct.NickName
		if ct.RemarkName != "" {
			name = ct.RemarkName
		}
		if name == "" {
			name = string(chatID)
		}
		if fromMe {
			name = "To " + name
		}
		return chatRoute{key: portal.OfficialAccountsPortalKey(c.Login.ID), lead: name}
	}
	return own
}

// officialAccountsChatInfo: only the user is in the room; the messages come from the
// bridge bot, led by the account's name.
func (c *WeChatClient) officialAccountsChatInfo() *bridgev2.ChatInfo {
	members := bridgev2.ChatMemberMap{}
	members.Set(c.me())
	return &bridgev2.ChatInfo{
		Name:    ptr(officialAccountsRoomName),
		Topic:   ptr("Messages of the WeChat official accounts you follow. To answer one, open its own chat with `start-chat <name>`."),
		Type:    ptr(database.RoomTypeDefault),
		Members: &bridgev2.ChatMemberList{IsFull: true, MemberMap: members},
	}
}
