package bridge

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"
)

// A transaction is skipped without parsing only when every sender in it belongs to the
// bridge; anything unusual is parsed.
func TestOnlySenders(t *testing.T) {
	bridgeOwn := func(u id.UserID) bool { return strings.HasPrefix(string(u), "@wechat_") || u == "@wechatbot:hs" }
	cases := []struct {
		body string
		want bool
	}{
		{`{"events":[{"sender":"@wechat_bob:hs","type":"m.room.message"},{"sender":"@wechatbot:hs"}]}`, true},
		{`{"events":[{"sender":"@wechat_bob:hs"},{"sender":"@alice:hs","content":{"body":"hi"}}]}`, false},
		{`{"events":[{"sender": "@alice:hs"}]}`, false}, // another spelling: not recognised, parsed
		{`{"events":[]}`, false},
		{`{"events":[{"sender":"@alice:hs","content":{"x":{"sender":"@wechat_bob:hs"}}}]}`, false},
		{`{"events":[{"sender":"@wechat_bob:hs`, false},
	}
	for _, c := range cases {
		if got := onlySenders([]byte(c.body), bridgeOwn); got != c.want {
			t.Errorf("onlySenders(%s) = %v, want %v", c.body, got, c.want)
		}
	}
}
