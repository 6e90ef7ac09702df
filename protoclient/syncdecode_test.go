package protoclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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

func TestDecodeSyncEnvelopeErrors(t *testing.T) {
	key := `"SyncKey":{"Count":1,"List":[{"Key":1,"Val":2}]}`
	for _, tc := range []struct {
		body string
		want func(error) bool
	}{
		{`not json`, isMalformed},
		{`{"AddMsgList":[]}`, isMalformed},
		{`{"BaseResponse":null,` + key + `}`, isMalformed},
		{`{"BaseResponse":{"Ret":0}}`, isMalformed},
		{`{"BaseResponse":{"Ret":0},"SyncKey":null}`, isMalformed},
		{`{"BaseResponse":{"Ret":0},"SyncKey":"x"}`, isMalformed},
		{`{"BaseResponse":{"Ret":0},"SyncKey":{"Count":"1","List":[]}}`, isMalformed},
		{`{"BaseResponse":{"Ret":"zero"},` + key + `}`, isMalformed},
		{`{"BaseResponse":{"Ret":0},` + key + `,"SyncCheckKey":[1]}`, isMalformed},
		// The Ret wins over a broken rest: a logout is a logout.
		{`{"BaseResponse":{"Ret":1101},"SyncKey":"x","AddMsgList":5}`, func(err error) bool {
			var lo *LoggedOutError
			return errors.As(err, &lo) && lo.Retcode == 1101
		}},
		{`{"BaseResponse":{"Ret":1205,"ErrMsg":""}}`, func(err error) bool {
			var ae *APIError
			return errors.As(err, &ae) && ae.RateLimited()
		}},
	} {
		_, err := decodeSyncResponse([]byte(tc.body))
		if !tc.want(err) {
			t.Errorf("%s: got %v", tc.body, err)
		}
	}
}

func isMalformed(err error) bool { return errors.Is(err, ErrMalformed) }

func TestDecodeSyncLenientParts(t *testing.T) {
	big := `{"MsgId":"77","FromUserName":"@a","MsgType":1,"Content":{"x":"` + strings.Repeat("y", 10000) + `"}}`
	body := `{"BaseResponse":{"Ret":0,"ErrMsg":""},"SyncKey":{"Count":1,"List":[{"Key":1,"Val":2}]},
		"AddMsgList":[5,null,"x",[],` + big + `,{"MsgId":"78","FromUserName":"@a","MsgType":"49","AppMsgType":"5","RecommendInfo":{"QQNum":"12","Sex":"2"}}],
		"ModContactList":{"UserName":"@c"},
		"DelContactList":[{"UserName":"@d","ContactFlag":"0"}],
		"ModChatRoomMemberList":{},
		"Profile":{"BitFlag":"190","NickName":{"Buff":5}},
		"ContinueFlag":"1","SKey":"@crypt_x"}`
	a, err := decodeSyncResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	b := a.batch
	if len(b.Messages) != 1 || b.Messages[0].MsgId != "78" || b.Messages[0].MsgType != 49 || b.Messages[0].AppMsgType != 5 ||
		b.Messages[0].RecommendInfo.QQNum != 12 || b.Messages[0].RecommendInfo.Sex != 2 {
		t.Fatalf("messages %+v", b.Messages)
	}
	if len(b.DelContacts) != 1 || b.DelContacts[0].UserName != "@d" {
		t.Fatalf("del contacts %+v", b.DelContacts)
	}
	if b.Profile == nil || b.Profile.NickName.Buff != "5" || b.ContinueFlag != 1 || a.skey != "@crypt_x" {
		t.Fatalf("profile %+v, continue %d, skey %q", b.Profile, b.ContinueFlag, a.skey)
	}
	var kinds []string
	for _, m := range b.Malformed {
		kinds = append(kinds, m.Kind+":"+m.MsgID+string(m.UserName))
		if !errors.Is(m.Err, ErrMalformed) || len(m.Raw) > MaxMalformedRaw || m.Size < len(m.Raw) {
			t.Fatalf("entry %+v", m)
		}
	}
	want := "[message: message: message: message: message:77 contact:@c chatroom_member:]"
	if fmt.Sprint(kinds) != want {
		t.Fatalf("malformed %v, want %s", kinds, want)
	}
	if m := b.Malformed[4]; len(m.Raw) != MaxMalformedRaw || m.Size != len(big) || m.FromUserName != "@a" {
		t.Fatalf("big entry: raw %d, size %d, from %q", len(m.Raw), m.Size, m.FromUserName)
	}
	if !strings.Contains(b.Malformed[4].Err.Error(), "field Content: an object where a string belongs") {
		t.Fatalf("error text %q", b.Malformed[4].Err)
	}
}

func TestLenientUnmarshal(t *testing.T) {
	var m Message
	err := lenientUnmarshal([]byte(`{"MsgId":1234567890123456789,"msgtype":" 3 ","CreateTime":1.7e9,"VoiceLength":"","Status":true,
		"ImgHeight":"+12","FileSize":1024,"NewMsgId":"1234567890123456789","Content":null,"AppInfo":{"Type":"1","AppID":7},"Extra":{"a":[1]}}`), &m)
	if err != nil {
		t.Fatal(err)
	}
	if m.MsgId != "1234567890123456789" || m.MsgType != 3 || m.CreateTime != 1700000000 || m.Status != 1 || m.ImgHeight != 12 ||
		m.FileSize != "1024" || m.NewMsgId != 1234567890123456789 || m.AppInfo.Type != 1 || m.AppInfo.AppID != "7" {
		t.Fatalf("%+v", m)
	}
	var c Contact
	if err := lenientUnmarshal([]byte(`{"UserName":"@@g","MemberList":[{"UserName":"@m","MemberStatus":"1","AttrStatus":"2"}],"Sex":false}`), &c); err != nil ||
		len(c.MemberList) != 1 || c.MemberList[0].MemberStatus != 1 || c.MemberList[0].AttrStatus != 2 {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{
		`{"MsgType":"abc"}`, `{"CreateTime":"x"}`, `{"MsgType":1.5}`, `{"MsgType":1e30}`, `{"Content":{}}`,
		`{"Content":[]}`, `{"AppInfo":"x"}`, `{"RecommendInfo":{"Sex":"y"}}`, `5`, `"x"`, `[]`, `{"ImgWidth":99999999999999999999}`,
	} {
		var m Message
		if err := lenientUnmarshal([]byte(bad), &m); err == nil {
			t.Errorf("%s decoded: %+v", bad, m)
		}
	}
}

// The per-entry path gives what the one-pass path gives for a well-formed answer.
func TestDecodeSyncPathsAgree(t *testing.T) {
	body := realisticSyncBody(t, 30, nil)
	fast, err := decodeSyncResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := decodeSyncLenient(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatal("the one-pass and per-entry decodes differ")
	}
	broken, err := decodeSyncResponse(realisticSyncBody(t, 30, func(i int, m map[string]any) {
		if i == 3 {
			m["CreateTime"] = "x"
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]Message(nil), fast.batch.Messages[:3]...), fast.batch.Messages[4:]...)
	if !reflect.DeepEqual(broken.batch.Messages, want) || len(broken.batch.Malformed) != 1 || broken.batch.Malformed[0].MsgID != fast.batch.Messages[3].MsgId {
		t.Fatal("one broken message changed the others")
	}
}

func FuzzDecodeSyncResponse(f *testing.F) {
	seedFiles(f, "webwxsync_qjesus.json", "webwxsync_wcap.json", "webwxsync_wechat4u.json")
	key := `"SyncKey":{"Count":1,"List":[{"Key":1,"Val":2}]}`
	for _, s := range []string{
		`{"BaseResponse":{"Ret":0},` + key + `,"AddMsgList":[{"MsgId":"1","FromUserName":"@a","MsgType":"1"},{"MsgId":2,"MsgType":"x"},5,null]}`,
		`{"BaseResponse":{"Ret":0},` + key + `,"AddMsgList":{},"ModContactList":[{"UserName":"@b","Sex":"1"},{"UserName":1}],"DelContactList":[{}]}`,
		`{"BaseResponse":{"Ret":0},` + key + `,"Profile":{"BitFlag":"190","UserName":{"Buff":1}},"ContinueFlag":"1","SKey":2}`,
		`{"BaseResponse":{"Ret":0},` + key + `,"AddMsgList":[{"MsgId":"1","FromUserName":"@a","MsgType":1,"RecommendInfo":{"QQNum":"x"}}],"addmsglist":[]}`,
		`{"BaseResponse":{"Ret":1101},"SyncKey":5}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkSyncDecode(t, []byte(body))
	})
}

// checkSyncDecode checks decodeSyncResponse's promises: only a broken envelope fails
// the answer; every list entry is either delivered or reported; every entry that
// decodes and is valid on its own is delivered unchanged and in order.
func checkSyncDecode(t *testing.T, body []byte) {
	a, err := decodeSyncResponse(body)
	var env struct {
		BaseResponse   *BaseResponse   `json:"BaseResponse"`
		SyncKey        *SyncKey        `json:"SyncKey"`
		SyncCheckKey   *SyncKey        `json:"SyncCheckKey"`
		AddMsgList     json.RawMessage `json:"AddMsgList"`
		ModContactList json.RawMessage `json:"ModContactList"`
		DelContactList json.RawMessage `json:"DelContactList"`
	}
	envOK := json.Unmarshal(body, &env) == nil && env.BaseResponse != nil && env.BaseResponse.Ret == 0 && env.SyncKey != nil
	if err != nil {
		if envOK {
			t.Fatalf("the envelope decodes but the answer failed: %v", err)
		}
		var lo *LoggedOutError
		var ae *APIError
		if !errors.Is(err, ErrMalformed) && !errors.As(err, &lo) && !errors.As(err, &ae) {
			t.Fatalf("untyped error %v", err)
		}
		return
	}
	if !envOK {
		t.Fatal("an answer without a sound envelope decoded")
	}
	b := &a.batch
	bad := map[string]int{}
	for _, m := range b.Malformed {
		bad[m.Kind]++
		if !errors.Is(m.Err, ErrMalformed) || len(m.Raw) > MaxMalformedRaw || m.Size < len(m.Raw) {
			t.Fatalf("malformed entry %+v", m)
		}
	}
	exact := !duplicateTopKeys(body)
	checkList(t, env.AddMsgList, b.Messages, bad[MalformedMessage], validMessage, exact)
	checkList(t, env.ModContactList, b.ModContacts, bad[MalformedContact], validContact, exact)
	checkList(t, env.DelContactList, b.DelContacts, bad[MalformedDelContact], validDelContact, exact)
}

func checkList[T any](t *testing.T, raw json.RawMessage, got []T, bad int, valid func(*T) error, exact bool) {
	t.Helper()
	if isNull(raw) {
		if len(got) != 0 || bad != 0 {
			t.Fatalf("no list, yet %d entries and %d malformed", len(got), bad)
		}
		return
	}
	var entries []json.RawMessage
	if json.Unmarshal(raw, &entries) != nil {
		if len(got) != 0 || bad != 1 {
			t.Fatalf("a list that is not one gave %d entries and %d malformed", len(got), bad)
		}
		return
	}
	if len(got)+bad != len(entries) {
		t.Fatalf("%d entries became %d delivered and %d malformed", len(entries), len(got), bad)
	}
	if !exact {
		return
	}
	j := 0
	for _, e := range entries {
		var v T
		if json.Unmarshal(e, &v) != nil || valid(&v) != nil {
			continue
		}
		for j < len(got) && !reflect.DeepEqual(got[j], v) {
			j++
		}
		if j == len(got) {
			t.Fatalf("good entry %s was not delivered as it is", e)
		}
		j++
	}
}

// duplicateTopKeys reports whether the top-level object names a key twice (ignoring
// case, as encoding/json matches): a list given twice is decoded over the first one in
// one pass, so entries may differ from their separate decode.
func duplicateTopKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		k, _ := tok.(string)
		k = strings.ToLower(k)
		if seen[k] {
			return true
		}
		seen[k] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

func TestRecentMessagesDropsRedeliveries(t *testing.T) {
	r := newRecentMessages(3)
	msg := func(id, content string) Message {
		return Message{MsgId: id, MsgType: MsgText, FromUserName: "@a", Content: content}
	}
	bad := MalformedEntry{Kind: MalformedMessage, MsgID: "9", Raw: []byte(`{"MsgId":"9"}`), Size: 13}
	b := &SyncBatch{Messages: []Message{msg("1", "a"), msg("2", "b"), msg("1", "a")}, Malformed: []MalformedEntry{bad}}
	f := r.filter(b)
	if len(b.Messages) != 2 || len(b.Malformed) != 1 || len(f.dropped) != 1 {
		t.Fatalf("first batch: %d messages, %d malformed, dropped %v", len(b.Messages), len(b.Malformed), f.dropped)
	}
	// Not handed over (the handler failed): the batch comes again whole.
	again := &SyncBatch{Messages: []Message{msg("1", "a")}, Malformed: []MalformedEntry{bad}}
	if r.filter(again); len(again.Messages) != 1 || len(again.Malformed) != 1 {
		t.Fatal("a batch the handler did not accept was filtered")
	}
	r.add(f.keys)
	again = &SyncBatch{Messages: []Message{msg("1", "a"), msg("2", "other content"), msg("3", "c")}, Malformed: []MalformedEntry{bad}}
	f = r.filter(again)
	if len(again.Messages) != 2 || again.Messages[0].Content != "other content" || len(again.Malformed) != 0 {
		t.Fatalf("redelivery: %+v, malformed %d", again.Messages, len(again.Malformed))
	}
	r.add(f.keys) // 2 "other content", 3: the oldest keys fall out
	old := &SyncBatch{Messages: []Message{msg("1", "a")}}
	if r.filter(old); len(old.Messages) != 1 || len(r.set) != 3 || len(r.ring) != 3 {
		t.Fatalf("the set is not bounded: %d keys", len(r.set))
	}
}
