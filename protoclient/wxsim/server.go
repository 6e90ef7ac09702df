package wxsim

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Options configure a Server.
type Options struct {
	// Logger receives structured logs; the zero value logs nothing.
	Logger zerolog.Logger
	// Settings are the initial settings; nil means DefaultSettings().
	Settings *Settings
	// Now is the clock (revoke window, idle expiry, timestamps); nil means time.Now.
	Now func() time.Time
	// AfterFunc runs f once d has passed on the clock of Now (logout_after_login_ms);
	// nil means time.AfterFunc. Give it with a Now that is not the real clock, or
	// timed events wake on real time and, finding Now short of them, wait for the next
	// request to happen.
	AfterFunc func(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc; *time.Timer is one.
type Timer interface {
	Stop() bool
}

// Server is the double. It is an http.Handler serving the protocol face and, under
// /_wxsim/v1/, the control face.
type Server struct {
	log       zerolog.Logger
	now       func() time.Time
	afterFunc func(time.Duration, func()) Timer
	done      chan struct{}
	stop      sync.Once

	mu           sync.Mutex
	settings     Settings
	accounts     map[string]*account
	accountByUin map[int64]*account
	logins       map[string]*login
	loginOrder   []*login
	tickets      map[string]*login
	sessions     map[string]*session
	bySkey       map[string]*session
	media        map[string]*mediaObj
	uploads      map[string]*upload
	faults       []*Fault
	faultSeq     int
	stats        map[string]int64

	control *http.ServeMux
}

// New returns a Server with no accounts.
func New(opts Options) *Server {
	st := DefaultSettings()
	if opts.Settings != nil {
		st = *opts.Settings
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	afterFunc := opts.AfterFunc
	if afterFunc == nil {
		afterFunc = func(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
	}
	s := &Server{
		log:          opts.Logger,
		now:          now,
		afterFunc:    afterFunc,
		done:         make(chan struct{}),
		settings:     st,
		accounts:     map[string]*account{},
		accountByUin: map[int64]*account{},
		logins:       map[string]*login{},
		tickets:      map[string]*login{},
		sessions:     map[string]*session{},
		bySkey:       map[string]*session{},
		media:        map[string]*mediaObj{},
		uploads:      map[string]*upload{},
		stats:        map[string]int64{},
	}
	s.control = s.controlMux()
	return s
}

// Close releases every long poll and hanging request so that an http.Server holding
// them can shut down. The Server must not be used afterwards.
func (s *Server) Close() {
	s.stop.Do(func() {
		close(s.done)
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, sess := range s.sessions {
			if sess.endTimer != nil {
				sess.endTimer.Stop()
			}
		}
	})
}

// Settings returns the current settings.
func (s *Server) Settings() Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}

// call is one protocol request with its body already read (and un-gzipped), because
// fault matching needs the BaseRequest before the handler runs.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	name   string
	body   []byte
	q      url.Values
	status int
}

func (c *call) cookie(name string) string {
	ck, err := c.r.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}

// host is the role host the client addressed, without a port.
func (c *call) host() string {
	h := c.r.Host
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return strings.ToLower(h)
}

type handler func(*Server, *call)

var routes = map[string]handler{
	"login":                (*Server).handleLoginPoll,
	"webwxnewloginpage":    (*Server).handleNewLoginPage,
	"webwxpushloginurl":    (*Server).handlePushLoginURL,
	"webwxlogout":          (*Server).handleLogout,
	"webwxinit":            (*Server).handleInit,
	"webwxstatusnotify":    (*Server).handleStatusNotify,
	"synccheck":            (*Server).handleSyncCheck,
	"webwxsync":            (*Server).handleSync,
	"webwxgetcontact":      (*Server).handleGetContact,
	"webwxbatchgetcontact": (*Server).handleBatchGetContact,
	"webwxsendmsg":         (*Server).handleSend,
	"webwxsendmsgimg":      (*Server).handleSend,
	"webwxsendvideomsg":    (*Server).handleSend,
	"webwxsendappmsg":      (*Server).handleSend,
	"webwxsendemoticon":    (*Server).handleSend,
	"webwxrevokemsg":       (*Server).handleRevoke,
	"webwxuploadmedia":     (*Server).handleUpload,
	"webwxcheckupload":     (*Server).handleCheckUpload,
	"webwxgetmsgimg":       (*Server).handleGetMsgImg,
	"webwxgetvoice":        (*Server).handleGetVoice,
	"webwxgetvideo":        (*Server).handleGetVideo,
	"webwxgetmedia":        (*Server).handleGetMedia,
	"webwxgeticon":         (*Server).handleGetIcon,
	"webwxgetheadimg":      (*Server).handleGetIcon,
	"webwxverifyuser":      (*Server).handleVerifyUser,
	"webwxupdatechatroom":  (*Server).handleUpdateChatRoom,
	"webwxcreatechatroom":  (*Server).handleCreateChatRoom,
	"webwxoplog":           (*Server).handleOplog,
}

const cgiPrefix = "/cgi-bin/mmwebwx-bin/"

func route(path string) (string, handler) {
	switch {
	case path == "/jslogin":
		return "jslogin", (*Server).handleJSLogin
	case strings.HasPrefix(path, "/qrcode/"):
		return "qrcode", (*Server).handleQRCode
	case strings.HasPrefix(path, "/l/"):
		return "l", (*Server).handleQRPage
	case strings.HasPrefix(path, cgiPrefix):
		name := strings.TrimPrefix(path, cgiPrefix)
		if h, ok := routes[name]; ok {
			return name, h
		}
	}
	return "", nil
}

// maxBody bounds a request body; uploads are sent in 512 KiB chunks, but some clients
// send a whole file in one part.
const maxBody = 128 << 20

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_wxsim/") {
		s.control.ServeHTTP(w, r)
		return
	}
	name, h := route(r.URL.Path)
	if h == nil {
		http.NotFound(w, r)
		return
	}
	body, err := readBody(r)
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	c := &call{w: w, r: r, name: name, body: body, q: r.URL.Query()}
	acct := s.peekAccount(c)
	s.mu.Lock()
	s.stats[name]++
	s.mu.Unlock()
	s.log.Debug().Str("endpoint", name).Str("method", r.Method).Str("host", c.host()).Str("account", acct).Msg("request")
	if s.applyFaults(c, acct) {
		return
	}
	s.mu.Lock()
	lost := s.takeFault(acct, name, faultLostAnswer)
	s.mu.Unlock()
	if lost {
		// The server did the work; only the answer is lost, as when a connection drops
		// after the request was processed. A client that retries must not double it.
		s.log.Info().Str("endpoint", name).Str("account", acct).Msg("fault: lost_answer")
		c.w = discardWriter{h: http.Header{}}
		h(s, c)
		hijackClose(w, "")
		return
	}
	h(s, c)
}

// discardWriter swallows an answer that a lost_answer fault drops.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	var rd io.Reader = io.LimitReader(r.Body, maxBody)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = io.LimitReader(zr, maxBody)
	}
	return io.ReadAll(rd)
}

// peekAccount names the account a request belongs to, for fault matching and logs.
func (s *Server) peekAccount(c *call) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c.name {
	case "login":
		if l := s.logins[c.q.Get("uuid")]; l != nil {
			return l.wxid
		}
		return ""
	case "webwxnewloginpage":
		if l := s.tickets[c.q.Get("ticket")]; l != nil {
			return l.wxid
		}
		return ""
	case "webwxpushloginurl":
		if a := s.accountByUin[parseInt(c.q.Get("uin"))]; a != nil {
			return a.wxid
		}
		return ""
	}
	if sess := s.sessions[c.cookie("wxsid")]; sess != nil {
		return sess.acct.wxid
	}
	if sess := s.sessions[c.q.Get("sid")]; sess != nil {
		return sess.acct.wxid
	}
	if br, ok := bodyBaseRequest(c.body); ok {
		if sess := s.sessions[br.Sid]; sess != nil {
			return sess.acct.wxid
		}
	}
	if sess := s.bySkey[c.q.Get("skey")]; sess != nil {
		return sess.acct.wxid
	}
	return ""
}

var gzipWriters sync.Pool

// acceptsGzip mirrors the real server, which compresses whenever the client allows it.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if strings.EqualFold(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]), "gzip") {
			return true
		}
	}
	return false
}

func (s *Server) writeRaw(c *call, contentType string, body []byte) {
	h := c.w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-cache, must-revalidate")
	status := http.StatusOK
	if c.status != 0 {
		status = c.status
	}
	if len(body) > 0 && acceptsGzip(c.r) {
		var buf bytes.Buffer
		// A gzip writer is most of a megabyte: one per answer made wxsim the busiest
		// process of a benchmark with a thousand idle logins.
		zw, _ := gzipWriters.Get().(*gzip.Writer)
		if zw == nil {
			zw = gzip.NewWriter(&buf)
		} else {
			zw.Reset(&buf)
		}
		_, _ = zw.Write(body)
		_ = zw.Close()
		gzipWriters.Put(zw)
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		body = buf.Bytes()
	}
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

func (s *Server) writeJS(c *call, text string) {
	s.writeRaw(c, "text/javascript", []byte(text))
}

// writeJSON encodes like the real server: UTF-8 JSON labelled text/plain, with <, > and
// & left alone because message contents are HTML.
func (s *Server) writeJSON(c *call, v any) {
	s.writeRaw(c, "text/plain", marshalJSON(v))
}

func marshalJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{"BaseResponse":{"Ret":-1,"ErrMsg":"encode"}}`)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// wait blocks until ch is closed, d passes, the client leaves or the server closes. It
// reports whether the wait ended because ch was closed or d passed (false: give up).
func (s *Server) wait(c *call, ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return true
	case <-c.r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}
