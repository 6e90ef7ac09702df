package protoclient

import "testing"

// Logs name message kinds by their constants, and keep the number of kinds this code
// does not know.
func TestMsgTypeString(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{MsgApp.String(), "MsgApp"},
		{MsgRecalled.String(), "MsgRecalled"},
		{MsgType(12345).String(), "MsgType(12345)"},
		{AppMsgRefer.String(), "AppMsgRefer"},
		{AppMsgType(999).String(), "AppMsgType(999)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
