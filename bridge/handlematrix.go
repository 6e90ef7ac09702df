package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/networkid"
	"maunium.net/go/mautrix/event"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

var errUnsupportedMsgType = bridgev2.WrapErrorInStatus(errors.New("this kind of message cannot be sent to WeChat yet")).
	WithIsCertain(true).WithErrorAsMessage().WithSendNotice(true)

// HandleMatrixMessage sends a Matrix message with a fresh ClientMsgId (the transaction
// id, so the echo in webwxsync is not bridged back) and stores WeChat's MsgID as the
// message ID.
func (c *WeChatClient) HandleMatrixMessage(ctx context.Context, msg *bridgev2.MatrixMessage) (*bridgev2.MatrixMessageResponse, error) {
	switch msg.Content.MsgType {
	case event.MsgText, event.MsgNotice, event.MsgEmote:
	default:
		return nil, errUnsupportedMsgType
	}
	to, err := c.sendTarget(msg.Portal)
	if err != nil {
		return nil, err
	}
	clientMsgID := protoclient.NewClientMsgID()
	txn := networkid.TransactionID(clientMsgID)
	msg.AddPendingToIgnore(txn)
	res, err := c.wx.SendText(ctx, to, portal.TextFromMatrix(msg.Content), clientMsgID)
	if err != nil {
		msg.RemovePending(txn)
		return nil, sendFailure(err)
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
		return "", bridgev2.WrapErrorInStatus(errors.New("not connected to WeChat; send `login` to log in again")).
			WithIsCertain(true).WithErrorAsMessage().WithSendNotice(true)
	}
	to := c.dir.userName(string(p.ID))
	if to == "" {
		return "", bridgev2.WrapErrorInStatus(fmt.Errorf("this chat (%s) is not in the current WeChat session", p.ID)).
			WithIsCertain(true).WithErrorAsMessage().WithSendNotice(true)
	}
	return to, nil
}

// sendFailure explains a failed send in the words the room shows.
func sendFailure(err error) error {
	var ae *protoclient.APIError
	var lo *protoclient.LoggedOutError
	var reason string
	switch {
	case errors.As(err, &lo):
		reason = "the WeChat session has ended; send `login` to log in again"
	case errors.As(err, &ae) && ae.RateLimited():
		reason = "WeChat says you are sending too often; wait a moment and try again"
	case errors.As(err, &ae) && ae.Ret == 1201:
		reason = "you are no longer a member of this WeChat group"
	default:
		reason = "WeChat did not accept the message: " + err.Error()
	}
	return bridgev2.WrapErrorInStatus(errors.New(reason)).WithIsCertain(true).WithErrorAsMessage().WithSendNotice(true)
}

// HandleMatrixMessageRemove recalls a message on WeChat, which allows it for 2 minutes
// after sending.
func (c *WeChatClient) HandleMatrixMessageRemove(ctx context.Context, msg *bridgev2.MatrixMessageRemove) error {
	to, err := c.sendTarget(msg.Portal)
	if err != nil {
		return err
	}
	meta, _ := msg.TargetMessage.Metadata.(*MessageMetadata)
	if meta == nil || meta.ClientMsgID == "" || !c.IsThisUser(ctx, msg.TargetMessage.SenderID) {
		return bridgev2.WrapErrorInStatus(errors.New("only messages you sent from Matrix can be recalled on WeChat")).
			WithIsCertain(true).WithErrorAsMessage().WithSendNotice(true)
	}
	err = c.wx.Revoke(ctx, to, portal.ParseMessageID(msg.TargetMessage.ID), meta.ClientMsgID)
	var ae *protoclient.APIError
	if errors.As(err, &ae) && ae.Ret == -1 {
		return bridgev2.WrapErrorInStatus(errors.New("WeChat only allows recalling a message within 2 minutes of sending it")).
			WithIsCertain(true).WithErrorAsMessage().WithSendNotice(true)
	} else if err != nil {
		return sendFailure(err)
	}
	return nil
}
