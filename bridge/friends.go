package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/event"

	"wxbridge/bridge/wxdb"
	"wxbridge/portal"
	"wxbridge/protoclient"
)

// handleFriendRequest announces a friend request (MsgType 37, from fmessage) in the
// user's management room with the command that accepts it, and remembers what
// accepting takes. Only a finished ctx is an error: a notice that cannot be sent is
// logged, since failing would make WeChat's whole batch come again, forever.
func (c *WeChatClient) handleFriendRequest(ctx context.Context, info protoclient.MessageInfo, fr *protoclient.FriendRequest) error {
	content, req := portal.FriendRequestNotice(info, fr)
	log := zerolog.Ctx(ctx).With().Str("msg_id", info.ID).Str("request_id", req.ID).Str("requester_wxid", string(req.WxID)).Logger()
	if req.CanAccept() && req.ID != "" {
		isNew, err := c.Main.DB.FriendRequest.Put(ctx, c.Login.ID, wxdb.FriendRequest{
			ID:          req.ID,
			SessionUser: c.wx.SelfUserName(),
			UserName:    req.UserName,
			Ticket:      req.Ticket,
			WxID:        string(req.WxID),
			NickName:    req.NickName,
			Alias:       req.Alias,
			ReceivedAt:  info.Time,
		})
		if err != nil {
			log.Err(err).Msg("Storing a WeChat friend request failed; it can be accepted until the bridge restarts")
		}
		if !isNew && err == nil {
			log.Debug().Msg("WeChat friend request already announced")
			return nil
		}
	} else {
		log.Warn().Msg("WeChat friend request without what accepting it takes; announcing it without a command")
	}
	if err := c.sendManagementNotice(ctx, content); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Err(err).Msg("Announcing a WeChat friend request failed")
		return nil
	}
	log.Info().Msg("Announced a WeChat friend request")
	return nil
}

// sendManagementNotice sends a message as the bridge bot in the user's management room.
func (c *WeChatClient) sendManagementNotice(ctx context.Context, content *event.MessageEventContent) error {
	room, err := c.Login.User.GetManagementRoom(ctx)
	if err != nil {
		return fmt.Errorf("get management room: %w", err)
	}
	_, err = c.Main.Bridge.Bot.SendMessage(ctx, room, event.EventMessage, &event.Content{Parsed: content}, nil)
	return err
}

var errNoSuchFriendRequest = errors.New("no such friend request")

// acceptFriend accepts a pending friend request (webwxverifyuser Opcode 3) and returns
// it. The errors are written for people.
func (c *WeChatClient) acceptFriend(ctx context.Context, id string) (wxdb.FriendRequest, error) {
	store := c.Main.DB.FriendRequest
	p, ok, err := store.Get(ctx, c.Login.ID, id)
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Reading pending WeChat friend requests failed")
		return p, fmt.Errorf("could not read the pending friend requests: %w", err)
	}
	if !ok {
		return p, errNoSuchFriendRequest
	}
	if !c.IsLoggedIn() {
		return p, errNotConnected
	}
	if p.SessionUser != c.wx.SelfUserName() {
		// The requester's UserName belonged to an earlier web session.
		_ = store.Delete(ctx, c.Login.ID, p.ID)
		return p, errors.New("this request arrived before you last logged in to WeChat and can no longer be accepted from here; accept it on your phone")
	}
	if err := c.wx.AcceptFriendRequest(ctx, p.UserName, p.Ticket); err != nil {
		var ae *protoclient.APIError
		if errors.As(err, &ae) && ae.Refused() {
			_ = store.Delete(ctx, c.Login.ID, p.ID)
			return p, errors.New("WeChat no longer accepts this request (it may have expired or been handled on your phone)")
		}
		return p, wechatFailure(err, "accept the request")
	}
	if err := store.Delete(ctx, c.Login.ID, p.ID); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Forgetting an accepted WeChat friend request failed")
	}
	// The request named the requester's permanent wxid next to their session name: the
	// new contact that ModContactList brings gets its real id, not a derived one.
	if looksLikeWxid(p.WxID) && p.UserName != "" {
		pair := map[protoclient.UserName]protoclient.WxID{p.UserName: protoclient.WxID(p.WxID)}
		c.dir.learn(pair)
		if err := c.Main.DB.Identity.Put(ctx, c.Login.ID, pair); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Storing the new contact's WeChat id failed")
		}
	}
	return p, nil
}

// looksLikeWxid: a permanent id, not a v1_…@stranger name or a session name.
func looksLikeWxid(s string) bool {
	return s != "" && !strings.ContainsAny(s, "@ ")
}

// setRemark sets the remark name of a DM portal's contact (webwxoplog CmdId 2). WeChat's
// ModContactList entry that follows renames the room (remark_names_in_dms).
func (c *WeChatClient) setRemark(ctx context.Context, p *bridgev2.Portal, name string) error {
	id := portal.ParsePortalID(p.ID)
	if portal.IsGroupID(id) {
		return failure("remark names are for contacts: use this in a direct chat")
	}
	if !c.IsLoggedIn() {
		return errNotConnected
	}
	u := c.dir.userName(id)
	if u == "" {
		return failure("this contact is not in the current WeChat session")
	}
	err := c.wx.SetRemarkName(ctx, u, name)
	var ae *protoclient.APIError
	if errors.As(err, &ae) && !ae.RateLimited() {
		// Other web clients report that WeChat stopped taking remark names from the web
		// for some accounts.
		return failure(fmt.Sprintf("WeChat refused to set the remark name (error %d); set it on your phone", ae.Ret))
	}
	if err != nil {
		return wechatFailure(err, "set the remark name")
	}
	return nil
}

// setPinned pins or unpins a portal's chat on the phone (webwxoplog CmdId 3), carrying
// the contact's current remark, which WeChat would otherwise overwrite. Nothing is sent
// when the phone already shows the chat that way, or while a change made on the phone
// is on its way to the room (changingOnPhone).
func (c *WeChatClient) setPinned(ctx context.Context, p *bridgev2.Portal, pin bool) error {
	if !c.IsLoggedIn() {
		return errNotConnected
	}
	id := portal.ParsePortalID(p.ID)
	// Held through the call to WeChat: a batch of phone changes waits for it, and its
	// marks, its directory update and its room changes come after.
	c.phoneMu.Lock()
	defer c.phoneMu.Unlock()
	if c.phoneChanging[id] > 0 {
		return nil
	}
	u := c.dir.userName(id)
	ct := c.dir.contact(u)
	if u == "" || ct == nil {
		return failure("this chat is not in the current WeChat session")
	}
	if ct.Pinned() == pin {
		return nil
	}
	if err := c.wx.SetPinned(ctx, u, pin, ct.RemarkName); err != nil {
		return wechatFailure(err, "change the pin")
	}
	return nil
}

// roomNotice tells the user something in a portal room, as the bridge bot.
func (c *WeChatClient) roomNotice(ctx context.Context, p *bridgev2.Portal, text string) {
	if p.MXID == "" {
		return
	}
	content := &event.Content{Parsed: &event.MessageEventContent{MsgType: event.MsgNotice, Body: text}}
	if _, err := c.Main.Bridge.Bot.SendMessage(ctx, p.MXID, event.EventMessage, content, nil); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not send a notice to the room")
	}
}
