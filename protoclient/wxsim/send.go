package wxsim

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"time"

	"wxbridge/protoclient"
)

// The send endpoints (§4.7–4.11), revoke (§4.15) and status notify (§4.2). A repeated
// ClientMsgId is the same message: same MsgID, one /sent entry with attempts > 1, one
// echo.

var (
	reTitle    = regexp.MustCompile(`(?s)<title>(.*?)</title>`)
	reAttachID = regexp.MustCompile(`(?s)<attachid>(.*?)</attachid>`)
	reAppType  = regexp.MustCompile(`<type>\s*(\d+)\s*</type>`)
)

func xmlText(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<![CDATA[") && strings.HasSuffix(s, "]]>") {
		return s[len("<![CDATA[") : len(s)-len("]]>")]
	}
	return html.UnescapeString(s)
}

func firstMatch(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return xmlText(m[1])
	}
	return ""
}

func (s *Server) handleSend(c *call) {
	var req protoclient.SendRequest
	sess := s.decodeAuthed(c, &req, &req.BaseRequest)
	if sess == nil {
		return
	}
	localID := string(req.Msg.LocalID)
	clientID := string(req.Msg.ClientMsgId)
	if clientID == "" {
		clientID = localID
	}
	if localID == "" {
		localID = clientID
	}
	s.mu.Lock()
	a := sess.acct
	to := sess.idOf(req.Msg.ToUserName)
	if to == "" {
		s.mu.Unlock()
		s.log.Info().Str("account", a.wxid).Str("endpoint", c.name).Msg("send to an unknown UserName")
		s.writeJSON(c, errorBody(c.name, retParam))
		return
	}
	if isGroupID(to) {
		if g := a.groups[to]; g == nil || !g.has(a.wxid) {
			s.mu.Unlock()
			s.writeJSON(c, errorBody(c.name, retNotInGroup))
			return
		}
	}
	if rec := a.sentByClient[clientID]; clientID != "" && rec != nil {
		rec.Attempts++
		s.mu.Unlock()
		s.log.Info().Str("account", a.wxid).Str("client_msg_id", clientID).Int("attempts", rec.Attempts).Msg("repeated send")
		s.writeJSON(c, protoclient.SendResponse{MsgID: rec.MsgID, LocalID: localID})
		return
	}
	m, rec, ret := s.buildSent(sess, c.name, &req.Msg, to)
	if ret != 0 {
		s.mu.Unlock()
		s.writeJSON(c, errorBody(c.name, ret))
		return
	}
	rec.ClientMsgID = clientID
	a.sent = append(a.sent, rec)
	a.sentByMsgID[rec.MsgID] = rec
	if clientID != "" {
		a.sentByClient[clientID] = rec
	}
	if s.settings.EchoOwnSends {
		a.append(&event{kind: evMsg, msg: m})
	} else {
		a.msgs[m.id] = m
	}
	s.mu.Unlock()
	s.log.Info().Str("account", a.wxid).Str("endpoint", c.name).Str("msg_id", rec.MsgID).Int("type", rec.Type).Msg("message sent")
	s.writeJSON(c, protoclient.SendResponse{MsgID: rec.MsgID, LocalID: localID})
}

// buildSent turns a send request into the echoed message and the /sent record.
// Callers hold s.mu.
func (s *Server) buildSent(sess *session, endpoint string, in *protoclient.SendMsg, to string) (*msgEvent, *SentMessage, int) {
	a := sess.acct
	now := s.now()
	id, nid := newMsgID()
	m := &msgEvent{id: id, newID: nid, from: a.wxid, to: to, status: 3, imgStatus: 1, created: now.Unix()}
	rec := &SentMessage{MsgID: id, To: to, Content: in.Content, Attempts: 1, Created: now.Unix(), Endpoint: endpoint, at: now}
	var media *mediaObj
	if in.MediaId != "" {
		media = s.media[in.MediaId]
		if media == nil || media.account != a.wxid {
			return nil, nil, retParam
		}
	}
	switch endpoint {
	case "webwxsendmsg":
		m.msgType = protoclient.MsgType(in.Type)
		if m.msgType == 0 {
			m.msgType = protoclient.MsgText
		}
		m.body = encodeText(in.Content)
	case "webwxsendmsgimg":
		m.msgType, m.imgStatus = protoclient.MsgImage, 2
		if media != nil {
			m.body = wrapXML(imageXML(media.data))
			m.imgW, m.imgH = imageSize(media.data, 0, 0)
		} else {
			m.body = wrapXML(in.Content) // a forward carries the original XML (§4.8)
		}
	case "webwxsendvideomsg":
		m.msgType = protoclient.MsgVideo
		if protoclient.MsgType(in.Type) == protoclient.MsgMicroVideo {
			m.msgType = protoclient.MsgType(in.Type)
		}
		if media != nil {
			m.body = wrapXML(videoXML(media.data, 10, 640, 360, a.wxid))
		} else {
			m.body = wrapXML(in.Content)
		}
		m.playLen, m.imgW, m.imgH = 10, 640, 360
		m.thumb = defaultAvatar(id)
	case "webwxsendemoticon":
		m.msgType, m.imgStatus = protoclient.MsgEmoticon, 2
		data := []byte(in.EMoticonMd5)
		if media != nil {
			data = media.data
		}
		m.imgW, m.imgH = imageSize(data, 240, 210)
		m.body = wrapXML(emojiXML(data, m.imgW, m.imgH, a.wxid, to))
	case "webwxsendappmsg":
		m.msgType = protoclient.MsgApp
		m.appMsgType = protoclient.AppMsgType(in.Type)
		if t := firstMatch(reAppType, in.Content); t != "" {
			n, _ := strconv.Atoi(t)
			m.appMsgType = protoclient.AppMsgType(n)
		}
		rec.AppMsgType = int(m.appMsgType)
		rec.FileName = firstMatch(reTitle, in.Content)
		m.fileName = rec.FileName
		if aid := firstMatch(reAttachID, in.Content); aid != "" && media == nil {
			media = s.media[aid]
			if media == nil || media.account != a.wxid {
				return nil, nil, retParam
			}
		}
		x := strings.TrimSpace(in.Content)
		if !strings.HasPrefix(x, "<msg") {
			x = "<msg>" + x + "</msg>"
		}
		m.body = wrapXML(x)
		if media != nil {
			m.fileSize = strconv.Itoa(len(media.data))
			m.mediaID = media.id
			m.encFile = encryFileName(rec.FileName)
		}
	default:
		return nil, nil, retParam
	}
	rec.Type = int(m.msgType)
	if media != nil {
		rec.MediaSHA256 = media.sha
		if rec.FileName == "" {
			rec.FileName = media.name
		}
		m.media = media
		if m.thumb == nil && (m.msgType == protoclient.MsgImage || m.msgType == protoclient.MsgEmoticon) {
			m.thumb = media.data
		}
	}
	return m, rec, 0
}

func (s *Server) handleRevoke(c *call) {
	var req protoclient.RevokeRequest
	sess := s.decodeAuthed(c, &req, &req.BaseRequest)
	if sess == nil {
		return
	}
	s.mu.Lock()
	a := sess.acct
	rec := a.sentByMsgID[req.SvrMsgId]
	window := time.Duration(s.settings.RevokeWindowS) * time.Second
	ret := 0
	if rec == nil || s.now().Sub(rec.at) >= window {
		ret = retSys
	}
	a.revoked = append(a.revoked, RevokeRecord{MsgID: req.SvrMsgId, ClientMsgID: string(req.ClientMsgId), Ret: ret})
	if ret == 0 && s.settings.EchoOwnSends {
		// Your other devices see the revoke notice of your own message (§4.15).
		id, nid := newMsgID()
		a.append(&event{kind: evMsg, msg: &msgEvent{
			id: id, newID: nid, msgType: protoclient.MsgRecalled, from: a.wxid, to: rec.To,
			body: wrapXML(revokeXML(rec.To, rec.MsgID, "你撤回了一条消息")), status: 4, imgStatus: 1, created: s.now().Unix(),
		}})
	}
	s.mu.Unlock()
	s.log.Info().Str("account", a.wxid).Str("msg_id", req.SvrMsgId).Int("ret", ret).Msg("revoke")
	if ret != 0 {
		s.writeJSON(c, protoclient.RevokeResponse{BaseResponse: protoclient.BaseResponse{Ret: ret}})
		return
	}
	s.writeJSON(c, protoclient.RevokeResponse{
		Introduction: "你可以撤回2分钟内发送的消息（部分旧版本微信不支持这个功能）。",
		SysWording:   "已撤回",
	})
}

func (s *Server) handleStatusNotify(c *call) {
	var req protoclient.StatusNotifyRequest
	sess := s.decodeAuthed(c, &req, &req.BaseRequest)
	if sess == nil {
		return
	}
	if req.Code == protoclient.StatusNotifyRead {
		s.mu.Lock()
		chat := sess.idOf(req.ToUserName)
		if chat == "" {
			chat = string(req.ToUserName)
		}
		sess.acct.markedRead = append(sess.acct.markedRead, MarkRead{Chat: chat, At: s.now().Unix()})
		s.mu.Unlock()
	}
	id, _ := newMsgID()
	s.writeJSON(c, protoclient.StatusNotifyResponse{MsgID: id})
}
