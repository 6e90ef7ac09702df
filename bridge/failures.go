package bridge

import (
	"errors"
	"fmt"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// What a Matrix room shows when something asked of WeChat fails. Every caller goes
// through wechatFailure for the errors all WeChat calls share, and adds only what one
// of WeChat's answers means for its own action (a Ret 1 on a group change, a Ret -1 on
// a recall), so the same error reads the same everywhere.

var (
	// errNotConnected: the login has no WeChat session running (logged out, or not
	// connected yet); nothing was sent.
	errNotConnected = failure("not connected to WeChat; send `login` to log in again")
	// errSessionEnded: WeChat ended the session during the call.
	errSessionEnded = failure("the WeChat session has ended; send `login` to log in again")
)

// failure is an action WeChat refused or the bridge cannot do: certain, shown as failed
// with the reason, and not worth retrying as it is.
func failure(reason string) error {
	return bridgev2.WrapErrorInStatus(errors.New(reason)).WithIsCertain(true).
		WithStatus(event.MessageStatusFail).WithErrorAsMessage().WithSendNotice(true)
}

// retriableFailure is an action that may work if tried again later (rate limiting,
// WeChat unreachable).
func retriableFailure(reason string) error {
	return bridgev2.WrapErrorInStatus(errors.New(reason)).WithIsCertain(true).
		WithStatus(event.MessageStatusRetriable).WithErrorAsMessage().WithSendNotice(true)
}

// relayRefusal answers someone the portal relays for (bridgev2's relay mode) who tries
// more than sending messages: what would reach WeChat through the owner's account in
// the owner's name is theirs to do.
func (c *WeChatClient) relayRefusal(what string) error {
	return failure(fmt.Sprintf("your messages reach WeChat through %s's account (relay mode), which does not %s for you; log in with your own WeChat account to do that",
		c.Login.RemoteName, what))
}

// wechatFailure explains a failed WeChat call; action says what was tried ("send the
// message", "add them") for the texts that name it.
func wechatFailure(err error, action string) error {
	var ae *protoclient.APIError
	var lo *protoclient.LoggedOutError
	var he *protoclient.HTTPError
	var te *protoclient.TransportError
	switch {
	case errors.As(err, &lo):
		return errSessionEnded
	case errors.Is(err, protoclient.ErrNotLoggedIn):
		return errNotConnected
	case errors.As(err, &ae) && ae.RateLimited():
		return retriableFailure("WeChat says you are doing this too often; wait a while and try again")
	case errors.As(err, &ae) && ae.NotGroupMember():
		return failure("you are no longer a member of this WeChat group")
	case errors.As(err, &he), errors.As(err, &te):
		return retriableFailure("WeChat could not be reached: " + err.Error())
	default:
		return failure("WeChat could not " + action + ": " + err.Error())
	}
}

// chatRoomFailure explains a failed group change: what a refusal (Ret 1) means for
// group changes, and the rest as for any call.
func chatRoomFailure(err error, what string) error {
	var ae *protoclient.APIError
	switch {
	case errors.As(err, &ae) && ae.Refused() && what == "remove them":
		return failure("only the group owner can remove members from a WeChat group")
	case errors.As(err, &ae) && ae.Refused() && what == "rename the group":
		return failure("WeChat refused to rename the group (in a group where only the owner may change the name, ask the owner)")
	case errors.As(err, &ae) && ae.Refused():
		return failure("WeChat refused to " + what + " (they must be your WeChat contacts, and the group must allow it)")
	default:
		return wechatFailure(err, what)
	}
}
