package wxsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"wxbridge/protoclient"
)

// Messages from the world: contacts who write (incoming), the user's phone (from-phone),
// revokes, friend requests and verbatim sync fragments.

// WorldMessage is the body of incoming and from-phone: From (and Chat in groups) for
// incoming, To for from-phone. The last group are extensions.
type WorldMessage struct {
	From        string          `json:"from"`
	Chat        string          `json:"chat"`
	To          string          `json:"to"`
	Type        int             `json:"type"`
	Content     string          `json:"content"`
	MediaBase64 string          `json:"media_base64"`
	FileName    string          `json:"file_name"`
	AppMsgType  int             `json:"app_msg_type"`
	Raw         json.RawMessage `json:"raw,omitempty"`

	Width         int    `json:"width"`
	Height        int    `json:"height"`
	VoiceLengthMS int64  `json:"voice_length_ms"`
	PlayLengthS   int64  `json:"play_length_s"`
	URL           string `json:"url"`
	ThumbBase64   string `json:"thumb_base64"`
}

type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

// buildMsg renders a world message in stable ids. author is who typed it (the XML
// fromusername); sender, when set, is the group member prefixed to the content.
// Callers hold s.mu.
func (s *Server) buildMsg(a *account, from, to, sender, author string, in *WorldMessage) (*msgEvent, error) {
	data, err := base64.StdEncoding.DecodeString(in.MediaBase64)
	if err != nil {
		return nil, badRequest{"media_base64 is not base64"}
	}
	var thumb []byte
	if in.ThumbBase64 != "" {
		if thumb, err = base64.StdEncoding.DecodeString(in.ThumbBase64); err != nil {
			return nil, badRequest{"thumb_base64 is not base64"}
		}
	}
	id, nid := newMsgID()
	m := &msgEvent{id: id, newID: nid, msgType: protoclient.MsgType(in.Type), from: from, to: to, sender: sender,
		status: 3, imgStatus: 1, created: s.now().Unix(), url: in.URL}
	if m.msgType == 0 {
		m.msgType = protoclient.MsgText
	}
	needData := func(def []byte) []byte {
		if len(data) == 0 {
			return def
		}
		return data
	}
	switch m.msgType {
	case protoclient.MsgImage:
		data = needData(defaultAvatar(id))
		m.imgStatus = 2
		m.imgW, m.imgH = imageSize(data, in.Width, in.Height)
		if in.Width > 0 {
			m.imgW, m.imgH = in.Width, in.Height
		}
		m.body = wrapXML(imageXML(data))
		m.media = newMedia("", orDefault(in.FileName, "image.jpg"), data, a.wxid)
		m.thumb = data
	case protoclient.MsgVoice:
		data = needData([]byte("#!AMR\n"))
		m.voiceLen = in.VoiceLengthMS
		if m.voiceLen == 0 {
			m.voiceLen = max(1000, int64(len(data))*8/16) // about 16 kbit/s
		}
		m.body = wrapXML(voiceXML(data, m.voiceLen, author, strconv.FormatInt(nid, 10)))
		m.media = newMedia("", orDefault(in.FileName, "voice.mp3"), data, a.wxid)
	case protoclient.MsgVideo, protoclient.MsgMicroVideo:
		data = needData([]byte("\x00\x00\x00\x18ftypmp42"))
		m.playLen = max(1, in.PlayLengthS)
		if in.PlayLengthS == 0 {
			m.playLen = 10
		}
		m.imgW, m.imgH = 640, 360
		if in.Width > 0 {
			m.imgW, m.imgH = in.Width, in.Height
		}
		m.body = wrapXML(videoXML(data, m.playLen, m.imgW, m.imgH, author))
		m.media = newMedia("", orDefault(in.FileName, "video.mp4"), data, a.wxid)
		m.thumb = thumb
		if m.thumb == nil {
			m.thumb = defaultAvatar(id)
		}
	case protoclient.MsgEmoticon:
		data = needData(defaultAvatar(id))
		m.imgStatus = 2
		m.imgW, m.imgH = imageSize(data, 240, 210)
		m.body = wrapXML(emojiXML(data, m.imgW, m.imgH, author, a.wxid))
		m.media = newMedia("", orDefault(in.FileName, "emoticon.gif"), data, a.wxid)
		m.thumb = data
	case protoclient.MsgApp:
		m.appMsgType = protoclient.AppMsgType(in.AppMsgType)
		if m.appMsgType == 0 {
			m.appMsgType = protoclient.AppMsgURL
			if len(data) > 0 {
				m.appMsgType = protoclient.AppMsgAttach
			}
		}
		if m.appMsgType == protoclient.AppMsgAttach {
			if len(data) == 0 {
				return nil, badRequest{"a file message needs media_base64"}
			}
			name := orDefault(in.FileName, "file.bin")
			media := newMedia(newMediaID(), name, data, a.wxid)
			s.media[media.id] = media
			m.media = media
			m.body = wrapXML(fileAppXML(name, len(data), "@cdn_"+randHex(16)+"_1", author, data))
			m.fileName, m.fileSize, m.mediaID, m.encFile = name, strconv.Itoa(len(data)), media.id, encryFileName(name)
			m.appInfo = protoclient.AppInfo{AppID: "wx6618f1cfc6c132f8"}
		} else {
			title := orDefault(in.Content, in.FileName)
			m.body = wrapXML(appXML(int(m.appMsgType), title, in.URL, author))
			m.fileName = title
		}
	case protoclient.MsgSys, protoclient.MsgRecalled:
		m.body = encodeText(in.Content)
		m.status = 4
	default:
		m.body = encodeText(in.Content)
	}
	m.raw = in.Raw
	return m, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// incoming queues a message a contact wrote; callers hold s.mu.
func (s *Server) incoming(a *account, in *WorldMessage) (*msgEvent, error) {
	if in.From == "" {
		return nil, badRequest{"from is required"}
	}
	var from, sender string
	if in.Chat != "" {
		g := a.groups[in.Chat]
		if g == nil {
			return nil, notFound{"no group " + in.Chat}
		}
		if !g.has(a.wxid) {
			return nil, conflict{a.wxid + " is not a member of " + in.Chat}
		}
		from, sender = g.id, in.From
	} else {
		from = in.From
	}
	if in.From != a.wxid && !isSpecial(in.From) {
		a.personFor(in.From)
	}
	m, err := s.buildMsg(a, from, a.wxid, sender, in.From, in)
	if err != nil {
		return nil, err
	}
	a.append(&event{kind: evMsg, msg: m})
	return m, nil
}

// fromPhone queues a message the user sent on the phone; callers hold s.mu.
func (s *Server) fromPhone(a *account, in *WorldMessage) (*msgEvent, error) {
	to := in.To
	if to == "" {
		to = in.Chat
	}
	if to == "" {
		return nil, badRequest{"to is required"}
	}
	if isGroupID(to) {
		if a.groups[to] == nil {
			return nil, notFound{"no group " + to}
		}
	} else if !isSpecial(to) && to != a.wxid {
		a.personFor(to)
	}
	m, err := s.buildMsg(a, a.wxid, to, "", a.wxid, in)
	if err != nil {
		return nil, err
	}
	a.append(&event{kind: evMsg, msg: m})
	return m, nil
}

// revokeByWorld queues the 10002 notice of a message being recalled by its author;
// callers hold s.mu.
func (s *Server) revokeByWorld(a *account, msgID string) error {
	orig := a.msgs[msgID]
	if orig == nil {
		return notFound{"no message " + msgID}
	}
	chat := orig.chat(a.wxid)
	id, nid := newMsgID()
	m := &msgEvent{id: id, newID: nid, msgType: protoclient.MsgRecalled, status: 4, imgStatus: 1, created: s.now().Unix()}
	switch {
	case orig.from == a.wxid:
		m.from, m.to = a.wxid, orig.to
		m.body = wrapXML(revokeXML(chat, orig.id, "你撤回了一条消息"))
	case orig.sender != "":
		g := a.groups[chat]
		m.from, m.to, m.sender = chat, a.wxid, orig.sender
		m.body = wrapXML(revokeXML(chat, orig.id, `"`+a.displayName(orig.sender, g)+`" 撤回了一条消息`))
	default:
		m.from, m.to = orig.from, a.wxid
		m.body = wrapXML(revokeXML(chat, orig.id, `"`+a.displayName(orig.from, nil)+`" 撤回了一条消息`))
	}
	a.append(&event{kind: evMsg, msg: m})
	return nil
}

// friendRequestByWorld queues a MsgType 37 from fmessage; callers hold s.mu.
func (s *Server) friendRequestByWorld(a *account, from, nickname, greeting string) *FriendRequest {
	p := a.personFor(from)
	if nickname != "" {
		p.nickname = nickname
	}
	ticket := newStrangerTicket()
	id, nid := newMsgID()
	m := &msgEvent{id: id, newID: nid, msgType: protoclient.MsgVerify, from: "fmessage", to: a.wxid,
		body: wrapXML(friendRequestXML(from, p.nickname, greeting, ticket)), status: 3, imgStatus: 1, created: s.now().Unix(),
		recommend: &recommend{wxid: from, nickname: p.nickname, content: greeting, ticket: ticket}}
	fr := &FriendRequest{From: from, Nickname: p.nickname, State: "pending", Ticket: ticket, MsgID: id}
	a.friendReqs = append(a.friendReqs, fr)
	a.append(&event{kind: evMsg, msg: m})
	return fr
}

// addFriend makes someone a contact; callers hold s.mu.
func (a *account) addFriend(p *person) {
	if !p.friend {
		p.friend = true
		a.friendOrder = append(a.friendOrder, p.wxid)
	}
}

func (s *Server) handleVerifyUser(c *call) {
	var req protoclient.VerifyUserRequest
	sess := s.decodeAuthed(c, &req, &req.BaseRequest)
	if sess == nil {
		return
	}
	s.mu.Lock()
	a := sess.acct
	ret := 0
	switch req.Opcode {
	case protoclient.VerifyOpVerifyOK, protoclient.VerifyOpReject:
		for _, v := range req.VerifyUserList {
			var fr *FriendRequest
			for _, f := range a.friendReqs {
				if f.Ticket == v.VerifyUserTicket && f.State == "pending" && sess.idOf(v.Value) == f.From {
					fr = f
				}
			}
			if fr == nil {
				ret = retParam
				continue
			}
			if req.Opcode == protoclient.VerifyOpReject {
				fr.State = "rejected"
				continue
			}
			fr.State = "accepted"
			p := a.personFor(fr.From)
			a.addFriend(p)
			a.append(&event{kind: evModContact, id: p.wxid})
			s.sysText(a, p.wxid, fmt.Sprintf("你已添加了%s，现在可以开始聊天了。", p.nickname))
			s.log.Info().Str("account", a.wxid).Str("friend", p.wxid).Msg("friend request accepted")
		}
	}
	s.mu.Unlock()
	s.writeJSON(c, errorBody(c.name, ret))
}
