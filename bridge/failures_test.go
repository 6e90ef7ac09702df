package bridge

import (
	"errors"
	"testing"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// The errors every WeChat call shares read the same in a failed send and a failed group
// change, with the status that says whether trying again later may help.
func TestWeChatFailureOneVocabulary(t *testing.T) {
	for _, tc := range []struct {
		err    error
		text   string
		status event.MessageStatus
	}{
		{&protoclient.LoggedOutError{Retcode: 1101, Endpoint: "webwxsendmsg"}, "the WeChat session has ended; send `login` to log in again", event.MessageStatusFail},
		{protoclient.ErrNotLoggedIn, "not connected to WeChat; send `login` to log in again", event.MessageStatusFail},
		{&protoclient.APIError{Endpoint: "webwxsendmsg", Ret: 1205}, "WeChat says you are doing this too often; wait a while and try again", event.MessageStatusRetriable},
		{&protoclient.APIError{Endpoint: "webwxsendmsg", Ret: 1201}, "you are no longer a member of this WeChat group", event.MessageStatusFail},
		{&protoclient.HTTPError{Endpoint: "webwxsendmsg", StatusCode: 502}, "WeChat could not be reached: webwxsendmsg answered HTTP 502", event.MessageStatusRetriable},
	} {
		for _, got := range []error{wechatFailure(tc.err, "send the message"), chatRoomFailure(tc.err, "add them")} {
			var ms bridgev2.MessageStatus
			if !errors.As(got, &ms) || got.Error() != tc.text || ms.Status != tc.status {
				t.Errorf("%v: got %q (status %q), want %q (%q)", tc.err, got, ms.Status, tc.text, tc.status)
			}
		}
	}
	if got := wechatFailure(errors.New("boom"), "send the message").Error(); got != "WeChat could not send the message: boom" {
		t.Errorf("an unknown error: %q", got)
	}
}
