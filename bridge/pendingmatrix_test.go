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

// The bridge answers a transaction itself only when it holds nothing bridgev2 acts on.
func TestOnlyOwnTimelineEvents(t *testing.T) {
	cases := []struct {
		body string
		want bool
	}{
		{`{"events":[{"sender":"@wechat_bob:hs","type":"m.room.message","content":{"body":"hi \"state_key\" there"}}]}`, true},
		{`{"events":[{"sender":"@wechat_bob:hs","type":"m.room.member","state_key":"@wechat_bob:hs"}]}`, false},
		{`{"events":[{"sender":"@wechatbot:hs","type":"m.room.tombstone"}]}`, false},
		{`{"events":[{"sender":"@wechat_bob:hs","type":"m.room.message"}],"de.sorunome.msc2409.ephemeral":[]}`, false},
		{`{"events":[],"to_device":[{"type":"m.room_key"}]}`, false},
		{`{"events":[],"org.matrix.msc3202.device_lists":{"changed":["@a:hs"]}}`, false},
		{`{"events":[],"org.matrix.msc3202.device_one_time_keys_count":{}}`, false},
		{`{"events":[{"sender":"@wechat_bob:hs"}`, false}, // cut short
		// Ends a string in a marker word: not side data, but the long way is taken anyway.
		{`{"events":[{"sender":"@wechat_bob:hs","content":{"body":"x\"state_key"}}]}`, false},
	}
	for _, c := range cases {
		if got := onlyOwnTimelineEvents([]byte(c.body)); got != c.want {
			t.Errorf("onlyOwnTimelineEvents(%s) = %v, want %v", c.body, got, c.want)
		}
	}
}
