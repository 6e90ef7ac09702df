package wxsim

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"wxbridge/protoclient"
)

// Rendering stable-id messages into a session's wire form, and the verbatim overrides
// (raw fields, sync-raw fragments) with their {{id}} placeholders.

func (s *Server) renderMsg(sess *session, m *msgEvent) json.RawMessage {
	content := m.body
	if m.sender != "" {
		content = string(sess.userName(m.sender)) + ":<br/>" + content
	}
	msg := protoclient.Message{
		MsgId:        m.id,
		FromUserName: sess.userName(m.from),
		ToUserName:   sess.userName(m.to),
		MsgType:      m.msgType,
		Content:      content,
		Status:       m.status,
		ImgStatus:    m.imgStatus,
		CreateTime:   m.created,
		VoiceLength:  m.voiceLen,
		PlayLength:   m.playLen,
		FileName:     m.fileName,
		FileSize:     m.fileSize,
		MediaId:      m.mediaID,
		Url:          m.url,
		AppMsgType:   m.appMsgType,
		AppInfo:      m.appInfo,
		ImgHeight:    m.imgH,
		ImgWidth:     m.imgW,
		NewMsgId:     protoclient.FlexInt(m.newID),

		StatusNotifyCode: m.notifyCode,
		EncryFileName:    m.encFile,
	}
	if len(m.notifyIDs) > 0 {
		names := make([]string, len(m.notifyIDs))
		for i, id := range m.notifyIDs {
			names[i] = string(sess.userName(id))
		}
		msg.StatusNotifyUserName = strings.Join(names, ",")
	}
	if r := m.recommend; r != nil {
		name := sess.userName(r.wxid)
		msg.RecommendInfo = protoclient.RecommendInfo{
			UserName: name, NickName: r.nickname, Content: r.content, Ticket: r.ticket,
			Scene: 30, OpCode: 2,
			HeadImgUrl: "/cgi-bin/mmwebwx-bin/webwxgeticon?seq=0&username=" + string(name) + "&skey=" + sess.skey + "&msgid=" + m.id,
		}
	}
	b := marshalJSON(msg)
	if len(m.raw) > 0 {
		b = mergeObject(b, replacePlaceholders(sess, m.raw))
	}
	return b
}

var placeholder = regexp.MustCompile(`\{\{([^{}"\\]+)\}\}`)

// replacePlaceholders puts the session's UserName where a fragment says {{wxid_x}},
// {{12345@chatroom}} or {{self}}. UserNames are [@0-9a-f] or fixed ASCII names, so
// the JSON stays valid.
func replacePlaceholders(sess *session, raw json.RawMessage) json.RawMessage {
	return placeholder.ReplaceAllFunc(raw, func(m []byte) []byte {
		id := string(m[2 : len(m)-2])
		return []byte(sess.userName(strings.TrimSpace(id)))
	})
}

type kv struct {
	key string
	val json.RawMessage
}

func decodeObject(b []byte) ([]kv, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out []kv
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := t.(string)
		if !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, kv{key, v})
	}
	return out, true
}

// mergeObject sets the fields of over on base, keeping base's key order and putting
// new keys at the end; values are copied verbatim, whatever their JSON type.
func mergeObject(base, over []byte) []byte {
	bk, ok1 := decodeObject(base)
	ok, ok2 := decodeObject(over)
	if !ok1 || !ok2 {
		return base
	}
	for _, o := range ok {
		found := false
		for i := range bk {
			if bk[i].key == o.key {
				bk[i].val = o.val
				found = true
				break
			}
		}
		if !found {
			bk = append(bk, o)
		}
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range bk {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(strconv.Quote(f.key))
		buf.WriteByte(':')
		buf.Write(f.val)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}
