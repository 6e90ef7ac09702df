package bridge

import (
	"errors"
	"strings"

	"maunium.net/go/mautrix/bridgev2/commands"
	"maunium.net/go/mautrix/format"

	"wxbridge/bridge/mautrixfix"
	"wxbridge/portal"
)

// registerCommands adds the WeChat-specific management commands and mends bridgev2's
// unset-relay.
func (wc *WeChatConnector) registerCommands() {
	proc, ok := wc.Bridge.Commands.(*commands.Processor)
	if !ok {
		wc.Bridge.Log.Warn().Type("processor_type", wc.Bridge.Commands).Msg("Unknown command processor; WeChat commands are not available")
		return
	}
	proc.AddHandlers(cmdAcceptFriend, cmdSetRemark)
	// Every portal of this bridge belongs to one login.
	mautrixfix.UnsetRelayInSplitPortals(proc)
}

var cmdAcceptFriend = &commands.FullHandler{
	Func: fnAcceptFriend,
	Name: portal.AcceptFriendCommand,
	Help: commands.HelpMeta{
		Section:     commands.HelpSectionChats,
		Description: "Accept a WeChat friend request; the request's notice shows the command",
		Args:        "<_request ID_>",
	},
	RequiresLogin: true,
}

func fnAcceptFriend(ce *commands.Event) {
	if len(ce.Args) != 1 {
		ce.Reply("Usage: `$cmdprefix %s <request ID>` — the friend request's notice shows the exact command.", portal.AcceptFriendCommand)
		return
	}
	id := strings.TrimSpace(ce.Args[0])
	var lastErr error
	for _, login := range ce.User.GetUserLogins() {
		c, ok := login.Client.(*WeChatClient)
		if !ok {
			continue
		}
		p, err := c.acceptFriend(ce.Ctx, id)
		if errors.Is(err, errNoSuchFriendRequest) {
			continue
		}
		if err != nil {
			ce.Log.Warn().Err(err).Str("request_id", id).Str("login_id", string(login.ID)).Msg("Accepting a WeChat friend request failed")
			lastErr = err
			continue
		}
		ce.Log.Info().Str("request_id", id).Str("login_id", string(login.ID)).Msg("Accepted a WeChat friend request")
		who := p.NickName
		if who == "" {
			who = p.ID
		}
		target := p.NickName
		if looksLikeWxid(p.WxID) {
			target = p.WxID
		}
		ce.Reply("Accepted the friend request from %s. Once WeChat confirms the new contact (a moment), send `$cmdprefix start-chat %s` to chat with them.",
			format.SafeMarkdownCode(who), target)
		return
	}
	if lastErr != nil {
		ce.Reply("Could not accept the friend request: %s", lastErr.Error())
		return
	}
	ce.Reply("There is no pending WeChat friend request %s. It may have been accepted already.", format.SafeMarkdownCode(id))
}

// SetRemarkCommand sets the remark name of a DM portal's contact.
const SetRemarkCommand = "set-remark"

var cmdSetRemark = &commands.FullHandler{
	Func: fnSetRemark,
	Name: SetRemarkCommand,
	Help: commands.HelpMeta{
		Section:     commands.HelpSectionChats,
		Description: "In a direct chat: set your WeChat remark name (备注) for the contact",
		Args:        "<_name_>",
	},
	RequiresLogin:  true,
	RequiresPortal: true,
}

func fnSetRemark(ce *commands.Event) {
	name := strings.TrimSpace(ce.RawArgs)
	if name == "" {
		ce.Reply("Usage: `$cmdprefix %s <name>` in a direct chat", SetRemarkCommand)
		return
	}
	login, err := ce.Bridge.GetExistingUserLoginByID(ce.Ctx, ce.Portal.Receiver)
	c, ok := (*WeChatClient)(nil), false
	if err == nil && login != nil && login.UserMXID == ce.User.MXID {
		c, ok = login.Client.(*WeChatClient)
	}
	if !ok {
		ce.Reply("This room does not belong to one of your WeChat logins.")
		return
	}
	if err := c.setRemark(ce.Ctx, ce.Portal, name); err != nil {
		ce.Log.Warn().Err(err).Msg("Setting a WeChat remark name failed")
		ce.Reply("%s", err.Error())
		return
	}
	ce.Reply("WeChat now shows this contact to you as %s.", format.SafeMarkdownCode(name))
}
