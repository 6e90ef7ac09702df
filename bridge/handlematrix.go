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
	out, err := portal.FromMatrix(ctx, msg.Content, c.quotedMessage(msg), dir)
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
func (c *WeChatClient) sendOutgoing(ctx context.Context, msg *bridgev2.MatrixMessage, to string, out *portal.Outgoing, clientMsgID string) (*protoclient.SendResult, error) {
	if out.Kind == portal.OutText {
		res, err := c.wx.SendText(ctx, to, out.Text, clientMsgID)
		if err != nil {
			return nil, sendFailure(err)
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
		return nil, sendFailure(err)
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
		return nil, sendFailure(err)
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

// failure is a send WeChat refused or the bridge cannot do: certain, shown as failed
// with the reason, and not worth retrying as it is.
func failure(reason string) error {
	return bridgev2.WrapErrorInStatus(errors.New(reason)).WithIsCertain(true).
		WithStatus(event.MessageStatusFail).WithErrorAsMessage().WithSendNotice(true)
}

// retriableFailure is a send that may work if tried again later (rate limiting, WeChat
// unreachable).
func retriableFailure(reason string) error {
	return bridgev2.WrapErrorInStatus(errors.New(reason)).WithIsCertain(true).
		WithStatus(event.MessageStatusRetriable).WithErrorAsMessage().WithSendNotice(true)
}

// HandleMatrixReadReceipt marks the chat read on the phone.
func (c *WeChatClient) HandleMatrixReadReceipt(ctx context.Context, receipt *bridgev2.MatrixReadReceipt) error {
	to, err := c.sendTarget(receipt.Portal)
	if err != nil {
		return err
	}
	return c.wx.MarkRead(ctx, to)
}

// sendTarget is the chat's UserName in the current session.
func (c *WeChatClient) sendTarget(p *bridgev2.Portal) (string, error) {
	if !c.IsLoggedIn() {
		return "", failure("not connected to WeChat; send `login` to log in again")
	}
	to := c.dir.userName(string(p.ID))
	if to == "" {
		return "", failure(fmt.Sprintf("this chat (%s) is not in the current WeChat session", p.ID))
	}
	return to, nil
}

// sendFailure explains a failed send in the words the room shows.
func sendFailure(err error) error {
	var ae *protoclient.APIError
	var lo *protoclient.LoggedOutError
	var he *protoclient.HTTPError
	var te *protoclient.TransportError
	switch {
	case errors.As(err, &lo):
		return failure("the WeChat session has ended; send `login` to log in again")
	case errors.As(err, &ae) && ae.RateLimited():
		return retriableFailure("WeChat says you are sending too often; wait a moment and try again")
	case errors.As(err, &ae) && ae.Ret == 1201:
		return failure("you are no longer a member of this WeChat group")
	case errors.As(err, &he), errors.As(err, &te):
		return retriableFailure("WeChat could not be reached: " + err.Error())
	default:
		return failure("WeChat did not accept the message: " + err.Error())
	}
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
	err = c.wx.Revoke(ctx, to, portal.ParseMessageID(msg.TargetMessage.ID), meta.ClientMsgID)
	var ae *protoclient.APIError
	if errors.As(err, &ae) && ae.Ret == -1 {
		return failure("WeChat only allows recalling a message within 2 minutes of sending it")
	} else if err != nil {
		return sendFailure(err)
	}
	return nil
}
