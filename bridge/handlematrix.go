package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/networkid"
	"maunium.net/go/mautrix/event"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

var (
	_ bridgev2.ReadReceiptHandlingNetworkAPI = (*WeChatClient)(nil)
	_ bridgev2.RedactionHandlingNetworkAPI   = (*WeChatClient)(nil)
	_ bridgev2.MembershipHandlingNetworkAPI  = (*WeChatClient)(nil)
	_ bridgev2.RoomNameHandlingNetworkAPI    = (*WeChatClient)(nil)
	_ bridgev2.TagHandlingNetworkAPI         = (*WeChatClient)(nil)
)

// HandleMatrixMessage sends a Matrix message with a fresh ClientMsgId (the transaction
// id, so the echo in webwxsync is not bridged back) and stores WeChat's MsgID as the
// message ID. Conversion is portal.FromMatrix; media is fetched from Matrix and uploaded
// to WeChat first.
func (c *WeChatClient) HandleMatrixMessage(ctx context.Context, msg *bridgev2.MatrixMessage) (*bridgev2.MatrixMessageResponse, error) {
	defer c.pendingDone(ctx, msg.Event)
	if row, err := c.Main.Bridge.DB.Message.GetPartByMXID(ctx, msg.Event.ID); err == nil && row != nil {
		// Handled before: the homeserver sent the transaction again, or the start-up
		// recovery and the homeserver both brought it. Its status was sent then.
		zerolog.Ctx(ctx).Debug().Stringer("event_id", msg.Event.ID).Msg("Matrix message already sent to WeChat")
		return &bridgev2.MatrixMessageResponse{Pending: true}, nil
	}
	to, err := c.sendTarget(msg.Portal)
	if err != nil {
		return nil, err
	}
	dir := &chatDirectory{c: c, chat: to, portal: msg.Portal}
	convert := portal.FromMatrix
	if msg.OrigSender != nil {
		convert = portal.FromMatrixRelayed
	}
	out, err := convert(ctx, msg.Content, c.quotedMessage(msg), dir)
	if err != nil {
		return nil, failure(err.Error())
	}
	clientMsgID := protoclient.ClientMsgIDFor(time.UnixMilli(msg.Event.Timestamp), string(msg.Event.ID))
	txn := networkid.TransactionID(clientMsgID)
	msg.AddPendingToIgnore(txn)
	c.echoes.begin()
	res, err := c.sendOutgoing(ctx, msg, to, out, clientMsgID)
	if err != nil {
		c.echoes.end("")
		msg.RemovePending(txn)
		return nil, err
	}
	c.echoes.end(res.MsgID)
	text := out.Text
	if out.Kind == portal.OutText {
		c.recent.add(string(msg.Portal.ID), res.MsgID, []string{c.Login.RemoteName}, text)
	}
	return &bridgev2.MatrixMessageResponse{
		DB: &database.Message{
			ID:        portal.MakeMessageID(res.MsgID),
			SenderID:  c.selfID(),
			Timestamp: time.Now(),
			Metadata:  &MessageMetadata{ClientMsgID: clientMsgID},
		},
		RemovePending: txn,
	}, nil
}

// quotedMessage gives the replied-to message's sender and text for WeChat's quote form.
func (c *WeChatClient) quotedMessage(msg *bridgev2.MatrixMessage) *portal.QuotedMessage {
	if msg.ReplyTo == nil {
		return nil
	}
	t, ok := c.recent.byID(string(msg.Portal.ID), portal.ParseMessageID(msg.ReplyTo.ID))
	if !ok || len(t.senders) == 0 {
		return nil
	}
	return &portal.QuotedMessage{SenderName: t.senders[0], Text: t.text}
}

// sendOutgoing uploads media when there is some and sends with the given ClientMsgId;
// a caption follows the media as a text.
func (c *WeChatClient) sendOutgoing(ctx context.Context, msg *bridgev2.MatrixMessage, to protoclient.UserName, out *portal.Outgoing, clientMsgID string) (*protoclient.SendResult, error) {
	if out.Kind == portal.OutText {
		res, err := c.wx.SendText(ctx, to, out.Text, clientMsgID)
		if err != nil {
			return nil, wechatFailure(err, "send the message")
		}
		return res, nil
	}
	content := msg.Content
	if content.Info != nil && int64(content.Info.Size) > c.Main.Config.Media.MaxUploadSize {
		return nil, failure(fmt.Sprintf("the file is %d bytes, over this bridge's limit of %d", content.Info.Size, c.Main.Config.Media.MaxUploadSize))
	}
	uri, file := content.URL, content.File
	if file != nil {
		uri = file.URL
	}
	data, err := c.Main.Bridge.Bot.DownloadMedia(ctx, uri, file)
	if err != nil {
		return nil, failure("could not download the file from Matrix: " + err.Error())
	}
	if int64(len(data)) > c.Main.Config.Media.MaxUploadSize {
		return nil, failure(fmt.Sprintf("the file is %d bytes, over this bridge's limit of %d", len(data), c.Main.Config.Media.MaxUploadSize))
	}
	if len(data) == 0 {
		return nil, failure("the file is empty, and WeChat does not send empty files")
	}
	up, err := c.wx.UploadMedia(ctx, protoclient.Upload{To: to, FileName: out.FileName, MimeType: out.MimeType, Data: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		return nil, wechatFailure(err, "send the message")
	}
	var res *protoclient.SendResult
	switch out.Kind {
	case portal.OutImage:
		res, err = c.wx.SendImage(ctx, to, up.MediaID, clientMsgID)
	case portal.OutVideo:
		res, err = c.wx.SendVideo(ctx, to, up.MediaID, clientMsgID)
	case portal.OutEmoticon:
		res, err = c.wx.SendEmoticon(ctx, to, up.MediaID, "", clientMsgID)
	default:
		res, err = c.wx.SendFile(ctx, to, protoclient.FileInfo{Name: out.FileName, Size: up.Size, MediaID: up.MediaID, Signature: up.Signature}, clientMsgID)
	}
	if err != nil {
		return nil, wechatFailure(err, "send the message")
	}
	if out.Text != "" {
		// The caption is a message of its own on WeChat; losing it must not fail the media.
		capID := protoclient.ClientMsgIDFor(time.UnixMilli(msg.Event.Timestamp), string(msg.Event.ID)+"/caption")
		if capRes, err := c.wx.SendText(ctx, to, out.Text, capID); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Sending the caption after the media failed")
		} else {
			c.echoes.add(capRes.MsgID)
		}
	}
	return res, nil
}

// HandleMatrixReadReceipt marks the chat read on the phone.
func (c *WeChatClient) HandleMatrixReadReceipt(ctx context.Context, receipt *bridgev2.MatrixReadReceipt) error {
	if portal.IsOfficialAccountsPortal(receipt.Portal.ID) {
		return nil // no one chat to mark read
	}
	to, err := c.sendTarget(receipt.Portal)
	if err != nil {
		return err
	}
	return c.wx.MarkRead(ctx, to)
}

// sendTarget is the chat's UserName in the current session.
func (c *WeChatClient) sendTarget(p *bridgev2.Portal) (protoclient.UserName, error) {
	if portal.IsOfficialAccountsPortal(p.ID) {
		return "", errOfficialAccountsRoom
	}
	if !c.IsLoggedIn() {
		return "", errNotConnected
	}
	to := c.dir.userName(portal.ParsePortalID(p.ID))
	if to == "" {
		return "", failure(fmt.Sprintf("this chat (%s) is not in the current WeChat session", p.ID))
	}
	return to, nil
}

// HandleMatrixMessageRemove recalls a message on WeChat, which allows it for 2 minutes
// after sending.
func (c *WeChatClient) HandleMatrixMessageRemove(ctx context.Context, msg *bridgev2.MatrixMessageRemove) error {
	defer c.pendingDone(ctx, msg.Event)
	to, err := c.sendTarget(msg.Portal)
	if err != nil {
		return err
	}
	meta, _ := msg.TargetMessage.Metadata.(*MessageMetadata)
	if meta == nil || meta.ClientMsgID == "" || !c.IsThisUser(ctx, msg.TargetMessage.SenderID) {
		return failure("only messages you sent from Matrix can be recalled on WeChat")
	}
	if msg.OrigSender != nil && msg.TargetMessage.SenderMXID != msg.OrigSender.UserID {
		// The owner's messages and the relayed ones all left from the owner's account: a
		// room moderator without a login could otherwise recall the owner's.
		return failure("through a relay you can only recall your own messages")
	}
	err = c.wx.Revoke(ctx, to, portal.ParseMessageID(msg.TargetMessage.ID), meta.ClientMsgID)
	var ae *protoclient.APIError
	if errors.As(err, &ae) && ae.SystemError() {
		return failure("WeChat only allows recalling a message within 2 minutes of sending it")
	} else if err != nil {
		return wechatFailure(err, "recall the message")
	}
	return nil
}

// ---------------------------------------------------------------------------------------
// Membership

// inviteStartCount is the group size from which WeChat wants members invited (they
// accept first) instead of added directly (init InviteStartCount, §4.19).
const inviteStartCount = 40

// addMemberFunc picks how to add people to a group: directly while it is small, by an
// invitation they accept from a size on, as the official web client does (§4.19:
// current members plus new ones ≥ 40).
func addMemberFunc(members, adding int) string {
	if members+adding >= inviteStartCount {
		return protoclient.ChatRoomInviteMember
	}
	return protoclient.ChatRoomAddMember
}

var (
	errMembershipNotSupported = failure("WeChat does not support that change of membership from Matrix; make it on your phone")
	errDMMembership           = failure("a WeChat direct chat is always between two people; create a group to add more")
	errNotWeChatUser          = failure("only your WeChat contacts can be added to a WeChat group")
	errLeaveNotSupported      = failure("leaving a WeChat group is not possible from Matrix; leave it on your phone")
)

// HandleMatrixMembership adds WeChat contacts invited to a group portal to the group
// (webwxupdatechatroom addmember/invitemember) and removes kicked ones (delmember, which
// only the owner may). Everything else is refused visibly, except the user's own joins,
// which need nothing on WeChat, and so is any change by someone the portal relays for:
// the relay carries their messages, not their say over the owner's WeChat group.
func (c *WeChatClient) HandleMatrixMembership(ctx context.Context, msg *bridgev2.MatrixMembershipChange) (*bridgev2.MatrixMembershipResult, error) {
	switch {
	case msg.Type == bridgev2.AcceptInvite, msg.Type == bridgev2.Join, msg.Type == bridgev2.ProfileChange:
		// The user entering or renaming themselves in the Matrix room: WeChat is not involved.
		return nil, nil
	case msg.OrigSender != nil:
		return nil, c.relayRefusal("change who is in the chat")
	}
	switch msg.Type {
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
		return nil, failure("this group is not in the current WeChat session")
	}
	target := portal.ParseUserID(ghost.ID)
	log := zerolog.Ctx(ctx).With().Str("group_id", string(groupID)).Str("target_id", string(target)).Logger()
	if msg.Type == bridgev2.Invite {
		u := c.dir.userName(target)
		if u == "" || !isFriend(c.dir.contact(u), c.wx.SelfUserName()) {
			return nil, errNotWeChatUser
		}
		fun := addMemberFunc(max(group.MemberCount, len(group.MemberList)), 1)
		if _, err := c.wx.UpdateChatRoom(ctx, room, fun, []protoclient.UserName{u}, ""); err != nil {
			log.Err(err).Str("fun", fun).Msg("Adding a WeChat group member failed")
			return nil, chatRoomFailure(err, "add them")
		}
		log.Info().Str("fun", fun).Msg("Added a member to a WeChat group")
		return nil, nil
	}
	// Kick, or taking back an invitation (addmember made them a member at once).
	u := c.groupMemberUserName(room, target)
	if u == "" {
		return nil, failure("they are not a member of this WeChat group")
	}
	if _, err := c.wx.UpdateChatRoom(ctx, room, protoclient.ChatRoomDelMember, []protoclient.UserName{u}, ""); err != nil {
		log.Err(err).Msg("Removing a WeChat group member failed")
		return nil, chatRoomFailure(err, "remove them")
	}
	log.Info().Msg("Removed a member from a WeChat group")
	return nil, nil
}

// groupMemberUserName finds the session UserName of a group member by their ghost id.
func (c *WeChatClient) groupMemberUserName(room protoclient.UserName, ghostID protoclient.WxID) protoclient.UserName {
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

var errDMRename = failure("a WeChat direct chat is named after the contact; rename the contact on your phone")

// HandleMatrixRoomName renames the WeChat group of a group portal (webwxupdatechatroom
// modtopic). When WeChat refuses, or the room is a DM, or the name comes from someone
// the portal relays for, the user sees why and the room takes WeChat's name back, so
// that Matrix never shows a name WeChat does not have.
func (c *WeChatClient) HandleMatrixRoomName(ctx context.Context, msg *bridgev2.MatrixRoomName) (bool, error) {
	groupID := portal.ParsePortalID(msg.Portal.ID)
	newName := msg.Content.Name
	var err error
	if msg.OrigSender != nil {
		err = c.relayRefusal("rename the group")
	} else {
		err = c.renameGroup(ctx, groupID, newName)
	}
	if err != nil {
		c.restoreRoomName(ctx, msg.Portal)
		return false, err
	}
	zerolog.Ctx(ctx).Info().Str("group_id", string(groupID)).Msg("Renamed a WeChat group from Matrix")
	msg.Portal.Name = newName
	return true, nil
}

func (c *WeChatClient) renameGroup(ctx context.Context, groupID protoclient.WxID, name string) error {
	if !portal.IsGroupID(groupID) {
		return errDMRename
	}
	if !c.IsLoggedIn() {
		return errNotConnected
	}
	room := c.dir.userName(groupID)
	if room == "" || c.dir.contact(room) == nil {
		return failure("this group is not in the current WeChat session")
	}
	if _, err := c.wx.UpdateChatRoom(ctx, room, protoclient.ChatRoomModTopic, nil, name); err != nil {
		zerolog.Ctx(ctx).Err(err).Str("group_id", string(groupID)).Msg("Renaming a WeChat group failed")
		return chatRoomFailure(err, "rename the group")
	}
	return nil
}

// restoreRoomName sets the room's name back to the portal's, as the bridge bot.
func (c *WeChatClient) restoreRoomName(ctx context.Context, p *bridgev2.Portal) {
	content := &event.Content{Parsed: &event.RoomNameEventContent{Name: p.Name}}
	if _, err := c.Main.Bridge.Bot.SendState(ctx, p.MXID, event.StateRoomName, "", content, time.Time{}); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Putting the room's name back after a refused rename failed")
	}
}

// HandleRoomTag pins or unpins the chat on the phone when the user adds or removes the
// m.favourite tag (the room tags reach the bridge through accountdata.go). Most tag
// changes are the bridge's own, made to follow the phone, and /sync may bring them after
// the phone changed again: acting on such a stale state would set the two sides echoing
// each other's changes, a call to WeChat each time. So the room's tags are read as they
// are now (the portal's event lock keeps the bridge's own tag changes of this room out
// until it is done) and compared with the phone, and a chat whose phone settings are on
// their way to the room is left alone (setPinned): there the phone wins.
func (c *WeChatClient) HandleRoomTag(ctx context.Context, msg *bridgev2.MatrixRoomTag) error {
	if portal.IsOfficialAccountsPortal(msg.Portal.ID) {
		return nil
	}
	tags := msg.Content
	if client := puppetClient(ctx, c.Login.User); client != nil {
		now, err := client.GetTags(ctx, msg.Portal.MXID)
		if err != nil {
			return fmt.Errorf("read the room's tags: %w", err)
		}
		tags = &now
	}
	_, pin := tags.Tags[event.RoomTagFavourite]
	err := c.setPinned(ctx, msg.Portal, pin)
	if err != nil {
		// Account data has no delivery status to carry the reason: say it in the room.
		what := "unpin"
		if pin {
			what = "pin"
		}
		c.roomNotice(ctx, msg.Portal, "Could not "+what+" this chat on WeChat: "+err.Error())
	}
	return err
}
