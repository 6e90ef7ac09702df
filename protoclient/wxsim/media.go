package wxsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"wxbridge/protoclient"
)

// Media: chunked upload (§4.13), the upload pre-check (§4.12) and the download
// endpoints (§4.14), which serve bytes by MsgID or MediaId.

type mediaObj struct {
	id      string
	data    []byte
	name    string
	sha     string
	md5     string
	account string
}

func newMedia(id, name string, data []byte, account string) *mediaObj {
	sum := sha256.Sum256(data)
	return &mediaObj{id: id, data: data, name: name, sha: hex.EncodeToString(sum[:]), md5: md5hex(data), account: account}
}

type upload struct {
	name   string
	total  int64
	chunks int
	parts  map[int][]byte
	got    int64
}

func (s *Server) handleUpload(c *call) {
	fail := func(ret int) {
		s.writeJSON(c, protoclient.UploadMediaResponse{BaseResponse: protoclient.BaseResponse{Ret: ret}})
	}
	_, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		fail(retParam)
		return
	}
	form := url.Values{}
	var data []byte
	var fileName string
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(retParam)
			return
		}
		b, err := io.ReadAll(p)
		if err != nil {
			fail(retParam)
			return
		}
		if p.FileName() != "" || p.FormName() == "filename" {
			data, fileName = b, p.FileName()
			continue
		}
		form.Add(p.FormName(), string(b))
	}
	var req protoclient.UploadMediaRequest
	if err := json.Unmarshal([]byte(form.Get("uploadmediarequest")), &req); err != nil {
		fail(retParam)
		return
	}
	sess, code := s.authenticate(c, &req.BaseRequest, needDataTicket, form)
	if code.Ret != 0 {
		fail(code.Ret)
		return
	}
	name := form.Get("name")
	if name == "" {
		name = fileName
	}
	total := req.TotalLen
	if total == 0 {
		total = parseInt(form.Get("size"))
	}
	chunks, chunk := 1, 0
	if form.Get("chunks") != "" {
		chunks, chunk = int(parseInt(form.Get("chunks"))), int(parseInt(form.Get("chunk")))
	}
	// Empty files are refused; parts over one chunk fail like on the real server
	// (§4.13, wechat4u#102).
	if len(data) == 0 || total == 0 || chunks < 1 || chunk < 0 || chunk >= chunks || len(data) > protoclient.ChunkSize {
		s.log.Info().Int("bytes", len(data)).Int("chunk", chunk).Int("chunks", chunks).Msg("upload refused")
		fail(retParam)
		return
	}
	key := strings.Join([]string{sess.sid, string(req.ClientMediaId), form.Get("id"), name}, "|")
	s.mu.Lock()
	up := s.uploads[key]
	if up == nil || up.chunks != chunks {
		up = &upload{name: name, total: total, chunks: chunks, parts: map[int][]byte{}}
		s.uploads[key] = up
	}
	if old, ok := up.parts[chunk]; ok {
		up.got -= int64(len(old))
	}
	up.parts[chunk] = data
	up.got += int64(len(data))
	if len(up.parts) < up.chunks {
		got := up.got
		s.mu.Unlock()
		s.writeJSON(c, protoclient.UploadMediaResponse{StartPos: got})
		return
	}
	delete(s.uploads, key)
	var all []byte
	for i := 0; i < up.chunks; i++ {
		all = append(all, up.parts[i]...)
	}
	m := newMedia(newMediaID(), name, all, sess.acct.wxid)
	s.media[m.id] = m
	web := sess.host
	s.mu.Unlock()
	ans := protoclient.UploadMediaResponse{MediaId: m.id, StartPos: int64(len(all)), EncryFileName: encryFileName(name)}
	if form.Get("mediatype") == "pic" {
		ans.CDNThumbImgHeight, ans.CDNThumbImgWidth = 100, 66
	}
	c.w.Header().Set("Access-Control-Allow-Origin", "https://"+web)
	c.w.Header().Set("Access-Control-Allow-Credentials", "true")
	s.log.Info().Str("account", sess.acct.wxid).Int("bytes", len(all)).Int("chunks", up.chunks).Msg("upload complete")
	s.writeJSON(c, ans)
}

func (s *Server) handleCheckUpload(c *call) {
	var req protoclient.CheckUploadRequest
	sess := s.decodeAuthed(c, &req, &req.BaseRequest)
	if sess == nil {
		return
	}
	ans := protoclient.CheckUploadResponse{AESKey: randHex(16), Signature: randHex(32), EncryFileName: encryFileName(req.FileName)}
	s.mu.Lock()
	for _, m := range s.media {
		if m.account == sess.acct.wxid && m.md5 == strings.ToLower(req.FileMd5) && int64(len(m.data)) == req.FileSize {
			ans.MediaId = m.id
			break
		}
	}
	s.mu.Unlock()
	s.writeJSON(c, ans)
}

// msgMedia finds the bytes of a message of the session's account; thumb asks for the
// slave picture.
func (s *Server) msgMedia(c *call, param string, thumb bool) (*mediaObj, []byte, bool) {
	sess, code := s.authenticate(c, nil, needDataTicket, nil)
	if code.Ret != 0 {
		c.w.WriteHeader(http.StatusForbidden)
		return nil, nil, false
	}
	id := c.q.Get(param)
	if id == "" {
		id = c.q.Get(strings.ToLower(param))
	}
	s.mu.Lock()
	m := sess.acct.msgs[id]
	s.mu.Unlock()
	if m == nil || (m.media == nil && m.thumb == nil) {
		http.NotFound(c.w, c.r)
		return nil, nil, false
	}
	if thumb && m.thumb != nil {
		return m.media, m.thumb, true
	}
	if m.media == nil {
		return nil, m.thumb, true
	}
	return m.media, m.media.data, true
}

func (s *Server) handleGetMsgImg(c *call) {
	_, data, ok := s.msgMedia(c, "MsgID", c.q.Get("type") == "slave")
	if !ok {
		return
	}
	c.w.Header().Set("Cache-Control", "max-age=604800")
	c.w.Header().Set("Content-Type", http.DetectContentType(data))
	http.ServeContent(c.w, c.r, "", time.Time{}, bytes.NewReader(data))
}

func (s *Server) handleGetVoice(c *call) {
	_, data, ok := s.msgMedia(c, "msgid", false)
	if !ok {
		return
	}
	c.w.Header().Set("Content-Type", "audio/mp3")
	http.ServeContent(c.w, c.r, "", time.Time{}, bytes.NewReader(data))
}

func (s *Server) handleGetVideo(c *call) {
	_, data, ok := s.msgMedia(c, "msgid", false)
	if !ok {
		return
	}
	c.w.Header().Set("Content-Type", "video/mp4")
	http.ServeContent(c.w, c.r, "", time.Time{}, bytes.NewReader(data))
}

func (s *Server) handleGetMedia(c *call) {
	sess, code := s.authenticate(c, nil, needDataTicket, nil)
	if code.Ret != 0 {
		c.w.WriteHeader(http.StatusForbidden)
		return
	}
	s.mu.Lock()
	m := s.media[c.q.Get("mediaid")]
	s.mu.Unlock()
	if m == nil || m.account != sess.acct.wxid {
		http.NotFound(c.w, c.r)
		return
	}
	c.w.Header().Set("Content-Type", "application/octet-stream")
	c.w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": m.name}))
	http.ServeContent(c.w, c.r, "", time.Time{}, bytes.NewReader(m.data))
}
