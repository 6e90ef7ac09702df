package wxsim

import (
	"fmt"
	"net"
	"net/http"
	"strconv"

	"wxbridge/protoclient"
)

// Fault injection (README.md, "Faults"): per account (or all) and endpoint (or
// "*"), applied before the handler runs, except duplicate, which webwxsync applies to
// the next batch that has messages.

const (
	faultHTTPStatus = "http_status"
	faultRetcode    = "retcode"
	faultDelay      = "delay"
	faultHang       = "hang"
	faultReset      = "reset"
	faultDuplicate  = "duplicate"
	// faultBadStatus is an extension: the answer starts with the invalid status line
	// "HTTP/1.1 0 -" that synccheck sometimes sends (§8.3).
	faultBadStatus = "bad_status"
	// faultLostAnswer is an extension: the request is processed, then the connection is
	// dropped without the answer — the case that makes retried sends dangerous.
	faultLostAnswer = "lost_answer"
	// faultEmptySyncKey is an extension: webwxsync answers normally but with a SyncKey
	// (and SyncCheckKey) of Count 0, which clients must not adopt (§4.6).
	faultEmptySyncKey = "empty_synckey"
)

// Fault is the body of POST /faults and an entry of GET /faults (extension); Applied
// counts how often it fired.
type Fault struct {
	ID       string `json:"id"`
	Account  string `json:"account,omitempty"`
	Endpoint string `json:"endpoint"`
	Kind     string `json:"kind"`
	Value    int    `json:"value"`
	Count    int    `json:"count"`
	Applied  int    `json:"applied"`
}

func (f *Fault) validate() error {
	if f.Endpoint == "" {
		f.Endpoint = "*"
	}
	switch f.Kind {
	case faultHTTPStatus:
		if f.Value < 100 || f.Value > 999 {
			return fmt.Errorf("http_status needs a status code as value")
		}
	case faultRetcode, faultHang, faultReset, faultDuplicate, faultBadStatus, faultEmptySyncKey, faultLostAnswer:
	case faultDelay:
		if f.Value < 0 {
			return fmt.Errorf("delay needs milliseconds as value")
		}
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Count < 0 {
		return fmt.Errorf("count must not be negative")
	}
	return nil
}

func (f *Fault) matches(endpoint, account string) bool {
	return (f.Endpoint == "*" || f.Endpoint == endpoint) && (f.Account == "" || f.Account == account)
}

// use counts one application and drops the fault when its count is spent. Callers
// hold s.mu.
func (s *Server) use(f *Fault) {
	f.Applied++
	if f.Count > 0 && f.Applied >= f.Count {
		for i, g := range s.faults {
			if g == f {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				break
			}
		}
	}
}

// takeFault consumes a matching fault of the kind; callers hold s.mu.
func (s *Server) takeFault(account, endpoint, kind string) bool {
	for _, f := range s.faults {
		if f.Kind == kind && f.matches(endpoint, account) {
			s.use(f)
			return true
		}
	}
	return false
}

// applyFaults runs the faults for a request and reports whether the request is done.
func (s *Server) applyFaults(c *call, account string) bool {
	s.mu.Lock()
	delay := 0
	var term *Fault
	for _, f := range append([]*Fault(nil), s.faults...) {
		if !f.matches(c.name, account) || f.Kind == faultDuplicate || f.Kind == faultEmptySyncKey || f.Kind == faultLostAnswer {
			continue
		}
		if f.Kind == faultDelay {
			delay += f.Value
			s.use(f)
			continue
		}
		if term == nil {
			term = f
			s.use(f)
		}
	}
	var kind string
	var value int
	if term != nil {
		kind, value = term.Kind, term.Value
	}
	s.mu.Unlock()
	if delay > 0 {
		s.log.Info().Str("endpoint", c.name).Int("ms", delay).Msg("fault: delay")
		if !s.wait(c, nil, ms(delay)) {
			return true
		}
	}
	if term == nil {
		return false
	}
	s.log.Info().Str("endpoint", c.name).Str("account", account).Str("kind", kind).Int("value", value).Msg("fault")
	switch kind {
	case faultHTTPStatus:
		// newloginpage's 301 without Location still carries the XML (§3.5).
		if c.name == "webwxnewloginpage" && value >= 300 && value < 400 {
			c.status = value
			return false
		}
		c.w.WriteHeader(value)
	case faultRetcode:
		s.answerRetcode(c, value)
	case faultHang:
		select {
		case <-c.r.Context().Done():
		case <-s.done:
		}
	case faultReset:
		hijackClose(c.w, "")
	case faultBadStatus:
		hijackClose(c.w, "HTTP/1.1 0 -\r\nContent-Length: 0\r\n\r\n")
	}
	return true
}

// hijackClose drops the connection, after writing prefix; with linger 0 the peer sees
// a reset rather than an orderly close.
func hijackClose(w http.ResponseWriter, prefix string) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if prefix != "" {
		_, _ = buf.WriteString(prefix)
		_ = buf.Flush()
	} else if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func (s *Server) answerRetcode(c *call, code int) {
	switch c.name {
	case "synccheck":
		s.writeJS(c, synccheckText(code, 0))
	case "login":
		s.writeJS(c, "window.code="+strconv.Itoa(code)+";")
	case "jslogin":
		s.writeJS(c, "window.QRLogin.code = "+strconv.Itoa(code)+";")
	case "webwxnewloginpage":
		msg := ""
		if code == 1203 {
			msg = msg1203
		}
		s.writeRaw(c, "text/plain;charset=utf-8", []byte(xmlError(code, msg)))
	case "webwxpushloginurl":
		s.writeJSON(c, map[string]string{"ret": strconv.Itoa(code), "msg": "", "uuid": ""})
	case "webwxsync":
		s.writeJSON(c, emptySyncAnswer(code))
	default:
		s.writeJSON(c, errorBody(c.name, code))
	}
}

// errorBody is the answer of a JSON API that failed with ret, in the endpoint's shape.
func errorBody(endpoint string, ret int) any {
	br := protoclient.BaseResponse{Ret: ret}
	switch endpoint {
	case "webwxsync":
		return emptySyncAnswer(ret)
	case "webwxinit":
		return protoclient.InitResponse{BaseResponse: br, ContactList: []protoclient.Contact{}, SyncKey: protoclient.SyncKey{List: []protoclient.SyncKeyItem{}},
			User: protoclient.Contact{MemberList: []protoclient.Member{}}, MPSubscribeMsgList: []protoclient.MPSubscribeMsg{}}
	case "webwxsendmsg", "webwxsendmsgimg", "webwxsendvideomsg", "webwxsendappmsg", "webwxsendemoticon":
		return protoclient.SendResponse{BaseResponse: br}
	case "webwxrevokemsg":
		return protoclient.RevokeResponse{BaseResponse: br}
	case "webwxuploadmedia":
		return protoclient.UploadMediaResponse{BaseResponse: br}
	case "webwxcheckupload":
		return protoclient.CheckUploadResponse{BaseResponse: br}
	case "webwxstatusnotify":
		return protoclient.StatusNotifyResponse{BaseResponse: br}
	case "webwxgetcontact":
		return getContactAnswer{BaseResponse: br, MemberList: []protoclient.Contact{}}
	case "webwxbatchgetcontact":
		return protoclient.BatchGetContactResponse{BaseResponse: br, ContactList: []protoclient.Contact{}}
	case "webwxupdatechatroom", "webwxcreatechatroom":
		return chatRoomAnswer{BaseResponse: br, MemberList: []protoclient.Member{}}
	}
	return struct {
		BaseResponse protoclient.BaseResponse `json:"BaseResponse"`
	}{br}
}
