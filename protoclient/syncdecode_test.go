package protoclient

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// realisticSyncBody builds a webwxsync answer as a busy account gets it: n messages in
// the full shape the server sends (every field present), mostly group and private texts
// with some media, app and system messages from the payload fixtures, a few contact
// updates and a 7-part SyncKey. broken, when set, may rewrite message i.
func realisticSyncBody(tb testing.TB, n int, broken func(i int, m map[string]any)) []byte {
	tb.Helper()
	read := func(name string) map[string]any {
		b, err := os.ReadFile(filepath.Join("testdata", "payloads", name))
		if err != nil {
			tb.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			tb.Fatal(err)
		}
		return m
	}
	full := read("webwxsync_qjesus.json")
	template := full["AddMsgList"].([]any)[0].(map[string]any)
	others := []string{"msg_image.json", "msg_file.json", "msg_voice.json", "msg_video.json", "msg_card.json",
		"msg_location.json", "msg_revoke_group.json", "msg_friend_request.json"}
	msgs := make([]any, 0, n)
	for i := range n {
		m := map[string]any{}
		for k, v := range template {
			m[k] = v
		}
		switch {
		case i%10 < 6:
			m["MsgType"] = MsgText
			m["ImgStatus"] = 1
			m["ImgHeight"], m["ImgWidth"] = 0, 0
			if i%2 == 0 {
				m["FromUserName"] = "@@5e0c1b8d2f1a4c3e9b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d"
				m["Content"] = fmt.Sprintf("@a1b2c3d4e5f60718293a4b5c6d7e8f90:<br/>message %d in the group, with some ordinary length of text 你好", i)
			} else {
				m["Content"] = fmt.Sprintf("private message %d: see you at 8 &lt;3", i)
			}
		default:
			for k, v := range read(others[i%len(others)]) {
				m[k] = v
			}
		}
		id := fmt.Sprintf("69299422287145%05d", i)
		m["MsgId"] = id
		m["NewMsgId"] = json.Number(id)
		m["CreateTime"] = 1546215540 + i
		if broken != nil {
			broken(i, m)
		}
		msgs = append(msgs, m)
	}
	contacts := read("webwxbatchgetcontact.json")["ContactList"].([]any)
	mods := []any{}
	for range 3 {
		mods = append(mods, contacts...)
	}
	full["AddMsgList"] = msgs
	full["AddMsgCount"] = len(msgs)
	full["ModContactList"] = mods
	full["ModContactCount"] = len(mods)
	b, err := json.Marshal(full)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func BenchmarkDecodeSyncResponse(b *testing.B) {
	body := realisticSyncBody(b, 100, nil)
	b.Run("strict", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var res SyncResponse
			if err := json.Unmarshal(body, &res); err != nil || len(res.AddMsgList) != 100 {
				b.Fatal(err)
			}
		}
	})
	b.Run("lenient", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			a, err := decodeSyncResponse(body)
			if err != nil || len(a.batch.Messages) != 100 || len(a.batch.Malformed) != 0 {
				b.Fatal(err)
			}
		}
	})
	// One message with a wrong type: the per-entry path.
	bad := realisticSyncBody(b, 100, func(i int, m map[string]any) {
		if i == 50 {
			m["MsgType"] = "abc"
		}
	})
	b.Run("lenient-one-broken", func(b *testing.B) {
		b.SetBytes(int64(len(bad)))
		b.ReportAllocs()
		for b.Loop() {
			a, err := decodeSyncResponse(bad)
			if err != nil || len(a.batch.Messages) != 99 || len(a.batch.Malformed) != 1 {
				b.Fatal(err)
			}
		}
	})
}
