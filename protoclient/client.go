package protoclient

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Options configure a Client.
type Options struct {
	// ServerURL, when set, receives every request (scheme, host and an optional path
	// prefix), while the Host header keeps the real role host. Empty means the real
	// WeChat hosts. Tests and the demo point it at wxsim.
	ServerURL string
	// HTTPClient is the base client. Only its Transport is used (wrapped when ServerURL
	// is set): the client keeps its own cookies and follows no redirect. Nil means a
	// transport shared by all clients.
	HTTPClient *http.Client
	// NormalMode turns off the UOS/desktop mode that every maintained client uses since
	// 2021 (§3.5). Only for experiments: most accounts get 1203 without it.
	NormalMode bool
	// UserAgent overrides the default (the UOS browser string).
	UserAgent string
	// APITimeout bounds each non-long-poll request (default 30 s).
	APITimeout time.Duration
	// LongPollTimeout bounds synccheck and the login poll; it must be longer than the
	// server's hold of about 25 s (default 35 s, as the official client).
	LongPollTimeout time.Duration
}

const (
	appID            = "wx782c26e4c19acffb"
	defaultUserAgent = "Mozilla/5.0 (Linux; U; UOS x86_64; zh-cn) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36 UOSBrowser/6.0.1.1001"
	// uosExtspam is the opaque blob every maintained client sends on webwxnewloginpage
	// in desktop mode (§3.5); nobody generates it.
	uosExtspam = "Go8FCIkFEokFCggwMDAwMDAwMRAGGvAESySibk50w5Wb3uTl2c2h64jVVrV7gNs06GFlWplHQbY/5FfiO++1yH4ykCyNPWKXmco+wfQzK5R98D3so7rJ5LmGFvBLjGceleySrc3SOf2Pc1gVehzJgODeS0lDL3/I/0S2SSE98YgKleq6Uqx6ndTy9yaL9qFxJL7eiA/R3SEfTaW1SBoSITIu+EEkXff+Pv8NHOk7N57rcGk1w0ZzRrQDkXTOXFN2iHYIzAAZPIOY45Lsh+A4slpgnDiaOvRtlQYCt97nmPLuTipOJ8Qc5pM7ZsOsAPPrCQL7nK0I7aPrFDF0q4ziUUKettzW8MrAaiVfmbD1/VkmLNVqqZVvBCtRblXb5FHmtS8FxnqCzYP4WFvz3T0TcrOqwLX1M/DQvcHaGGw0B0y4bZMs7lVScGBFxMj3vbFi2SRKbKhaitxHfYHAOAa0X7/MSS0RNAjdwoyGHeOepXOKY+h3iHeqCvgOH6LOifdHf/1aaZNwSkGotYnYScW8Yx63LnSwba7+hESrtPa/huRmB9KWvMCKbDThL/nne14hnL277EDCSocPu3rOSYjuB9gKSOdVmWsj9Dxb/iZIe+S6AiG29Esm+/eUacSba0k8wn5HhHg9d4tIcixrxveflc8vi2/wNQGVFNsGO6tB5WF0xf/plngOvQ1/ivGV/C1Qpdhzznh0ExAVJ6dwzNg7qIEBaw+BzTJTUuRcPk92Sn6QDn2Pu3mpONaEumacjW4w6ipPnPw+g2TfywJjeEcpSZaP4Q3YV5HG8D6UjWA4GSkBKculWpdCMadx0usMomsSS/74QgpYqcPkmamB4nVv1JxczYITIqItIKjD35IGKAUwAA=="
	cgiPath    = "/cgi-bin/mmwebwx-bin/"
)

// Client speaks the web protocol for one account. It is safe for concurrent use; the
// sync methods serialise themselves, because two webwxsync calls with one key make the
// server deliver the same messages twice (§4.6).
type Client struct {
	opts Options
	// rt is the transport, called without an http.Client around it. The client adds
	// nothing this package needs: cookies are the jar's, deadlines the contexts', and no
	// redirect is followed (webwxnewloginpage's must not be, §3.5). But it copies each
	// request's headers for redirects, a copy every idle login held through its long poll.
	rt  http.RoundTripper
	jar *Jar

	mu   sync.Mutex
	sess Session

	syncMu sync.Mutex
}

// New returns a client without a session.
func New(opts Options) (*Client, error) {
	if opts.APITimeout <= 0 {
		opts.APITimeout = 30 * time.Second
	}
	if opts.LongPollTimeout <= 0 {
		opts.LongPollTimeout = 35 * time.Second
	}
	if opts.UserAgent == "" {
		opts.UserAgent = defaultUserAgent
	}
	var transport http.RoundTripper
	if opts.HTTPClient != nil {
		transport = opts.HTTPClient.Transport
	}
	if transport == nil {
		transport = sharedTransport
	}
	if opts.ServerURL != "" {
		u, err := url.Parse(opts.ServerURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("protoclient: server URL %q is not an absolute URL", opts.ServerURL)
		}
		transport = &rewriteTransport{base: u, next: transport}
	}
	jar := NewJar()
	c := &Client{
		opts: opts,
		jar:  jar,
		rt:   transport,
	}
	c.sess.Hosts = Hosts{Login: DefaultLoginHost}
	return c, nil
}

// sharedTransport carries every client made without an HTTP client of its own. Each
// login's calls go to the same few WeChat hosts (§1): Go's default keeps two idle
// connections per host, so with many logins most calls would dial (and shake hands)
// again; a browser per login would have kept its connection.
var sharedTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no limit across hosts
	t.MaxIdleConnsPerHost = 256
	// Every idle login holds a connection in a synccheck long poll; its buffers are most
	// of what the login costs in memory. A synccheck request and its answer fit in 2 KiB;
	// bigger bodies are read and written past the buffers.
	t.ReadBufferSize = 2 << 10
	t.WriteBufferSize = 2 << 10
	return t
}()

// Session returns a snapshot of the session, cookies included, for storage.
func (c *Client) Session() *Session {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	s.SyncKey = s.SyncKey.Normalized()
	if s.SyncCheckKey != nil {
		k := s.SyncCheckKey.Normalized()
		s.SyncCheckKey = &k
	}
	s.Cookies = c.jar.Export()
	return &s
}

// Restore loads a stored session, so that Resume continues it without a QR scan.
func (c *Client) Restore(s *Session) error {
	if !s.LoggedIn() {
		return ErrNotLoggedIn
	}
	c.mu.Lock()
	c.sess = *s
	c.mu.Unlock()
	c.jar.Import(s.Cookies)
	return nil
}

// Hosts returns the current role hosts.
func (c *Client) Hosts() Hosts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.Hosts
}

// SelfUserName is the session-scoped UserName of the logged-in account.
func (c *Client) SelfUserName() UserName {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.UserName
}

// Uin is the account's numeric id (stable across logins).
func (c *Client) Uin() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.Uin
}

func (c *Client) baseRequest() BaseRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return BaseRequest{Uin: FlexInt(c.sess.Uin), Sid: c.sess.Sid, Skey: c.sess.Skey, DeviceID: newDeviceID()}
}

func (c *Client) requireLogin() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.sess.LoggedIn() {
		return ErrNotLoggedIn
	}
	return nil
}

// newDeviceID is "e" + 15 random digits, new for every request like the official client,
// which takes them from Math.random(): they identify nothing and guard nothing, so a fast
// generator does (crypto/rand with big.Int cost a fifth of a synccheck's allocations).
func newDeviceID() string {
	b := make([]byte, 16)
	b[0] = 'e'
	for i := 1; i < len(b); i++ {
		b[i] = byte('0' + rand.IntN(10))
	}
	return string(b)
}

type role int

const (
	roleLogin role = iota
	roleWeb
	rolePush
	roleFile
)

func (c *Client) roleURL(r role, path string, q query) *url.URL {
	c.mu.Lock()
	h := c.sess.Hosts
	c.mu.Unlock()
	host := h.Web
	switch r {
	case roleLogin:
		host = h.Login
		if host == "" {
			host = DefaultLoginHost
		}
	case rolePush:
		host = h.Push
	case roleFile:
		host = h.File
	}
	return &url.URL{Scheme: "https", Host: host, Path: path, RawQuery: q.Encode()}
}

func cgi(name string) string { return cgiPath + name }

// passTicket is the XML value of pass_ticket; the query encodes it once more, which is
// what the official client puts on the wire (§2.2).
func (c *Client) passTicket() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.PassTicket
}

func (c *Client) skey() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.Skey
}

// do sends a request and returns the response, or a sanitised error: url.Error texts
// carry the full URL, whose query holds skey and pass_ticket, and must not reach logs.
func (c *Client) do(req *http.Request, endpoint string) (*http.Response, error) {
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if web := c.Hosts().Web; web != "" && req.Header.Get("Referer") == "" {
		req.Header.Set("Referer", "https://"+web+"/")
	}
	// Go's transport asks for gzip by itself and unpacks each answer with a new gzip
	// reader: tens of KiB for a synccheck answer of 45 bytes, which every idle login
	// fetches every 25 s. The same header set here (where the transport would set it)
	// leaves the body to us, and the readers are reused; the request asks for the same.
	gz := req.Header.Get("Accept-Encoding") == "" && req.Header.Get("Range") == ""
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	if line := c.jar.Header(req.URL); line != "" {
		req.Header.Set("Cookie", line)
	}
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return nil, sanitizeErr(endpoint, err)
	}
	if rc := resp.Cookies(); len(rc) > 0 {
		c.jar.SetCookies(req.URL, rc)
	}
	if gz && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		resp.Body = &gunzipBody{body: resp.Body}
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	return resp, nil
}

var gunzippers sync.Pool

// gunzipper is a gzip reader with the buffered reader it reads through: gzip wraps any
// other reader in a new 4 KiB buffer at every Reset.
type gunzipper struct {
	br *bufio.Reader
	zr *gzip.Reader
}

// gunzipBody unpacks a gzip answer with a pooled reader, started at the first Read like
// the transport's own.
type gunzipBody struct {
	body io.ReadCloser
	gz   *gunzipper
	err  error
}

func (g *gunzipBody) Read(p []byte) (int, error) {
	if g.gz == nil && g.err == nil {
		gz, _ := gunzippers.Get().(*gunzipper)
		if gz == nil {
			gz = &gunzipper{br: bufio.NewReader(g.body)}
		} else {
			gz.br.Reset(g.body)
		}
		if gz.zr == nil {
			gz.zr, g.err = gzip.NewReader(gz.br)
		} else {
			g.err = gz.zr.Reset(gz.br)
		}
		if g.err != nil {
			gunzippers.Put(gz)
			return 0, g.err
		}
		g.gz = gz
	}
	if g.err != nil {
		return 0, g.err
	}
	return g.gz.zr.Read(p)
}

func (g *gunzipBody) Close() error {
	if g.gz != nil {
		g.gz.br.Reset(nil)
		gunzippers.Put(g.gz)
		g.gz = nil
	}
	g.err = io.ErrClosedPipe
	return g.body.Close()
}

// TransportError is a request that got no HTTP answer (reset, timeout, refused).
type TransportError struct {
	Endpoint string
	Err      error
}

func (e *TransportError) Error() string { return e.Endpoint + ": " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

func sanitizeErr(endpoint string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &TransportError{Endpoint: endpoint, Err: err}
}

// baseResponder is implemented by every JSON answer carrying BaseResponse.
type baseResponder interface{ baseResponse() BaseResponse }

func (r *InitResponse) baseResponse() BaseResponse            { return r.BaseResponse }
func (r *SyncResponse) baseResponse() BaseResponse            { return r.BaseResponse }
func (r *GetContactResponse) baseResponse() BaseResponse      { return r.BaseResponse }
func (r *BatchGetContactResponse) baseResponse() BaseResponse { return r.BaseResponse }
func (r *SendResponse) baseResponse() BaseResponse            { return r.BaseResponse }
func (r *StatusNotifyResponse) baseResponse() BaseResponse    { return r.BaseResponse }
func (r *UploadMediaResponse) baseResponse() BaseResponse     { return r.BaseResponse }
func (r *CheckUploadResponse) baseResponse() BaseResponse     { return r.BaseResponse }
func (r *RevokeResponse) baseResponse() BaseResponse          { return r.BaseResponse }
func (r *ChatRoomResponse) baseResponse() BaseResponse        { return r.BaseResponse }
func (r *plainResponse) baseResponse() BaseResponse           { return r.BaseResponse }

type plainResponse struct {
	BaseResponse BaseResponse `json:"BaseResponse"`
}

// retError turns a BaseResponse into the typed error it means.
func retError(endpoint string, br BaseResponse) error {
	switch {
	case br.Ret == 0:
		return nil
	case IsLoggedOutCode(br.Ret):
		return &LoggedOutError{Retcode: br.Ret, Endpoint: endpoint}
	default:
		return &APIError{Endpoint: endpoint, Ret: br.Ret, ErrMsg: br.ErrMsg}
	}
}

// encodeJSON encodes without HTML escaping: contents carry <, > and & that the server
// must receive literally (§4).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// postJSON POSTs body to a web-host endpoint and decodes the JSON answer into out,
// mapping BaseResponse.Ret to typed errors.
func (c *Client) postJSON(ctx context.Context, r role, endpoint string, q query, body any, out baseResponder) error {
	return c.postJSONWith(ctx, r, endpoint, q, body, decodeInto(endpoint, out))
}

// decodeInto is the decoder of postJSON and getJSON.
func decodeInto(endpoint string, out baseResponder) func([]byte) error {
	return func(body []byte) error {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrMalformed, endpoint, err)
		}
		return retError(endpoint, out.baseResponse())
	}
}

// postJSONWith is postJSON with the caller's decoder of the answer body.
func (c *Client) postJSONWith(ctx context.Context, r role, endpoint string, q query, body any, decode func([]byte) error) error {
	payload, err := encodeJSON(body)
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", endpoint, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.APITimeout)
	defer cancel()
	req, err := newRequest(ctx, http.MethodPost, c.roleURL(r, cgi(endpoint), q), bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("%s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("Accept", "application/json, text/plain, */*")
	return c.doJSON(req, endpoint, decode)
}

func (c *Client) getJSON(ctx context.Context, r role, endpoint string, q query, out baseResponder) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.APITimeout)
	defer cancel()
	req, err := newRequest(ctx, http.MethodGet, c.roleURL(r, cgi(endpoint), q), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", endpoint, err)
	}
	req.Header.Set("Accept", "application/json, text/plain, */*")
	return c.doJSON(req, endpoint, decodeInto(endpoint, out))
}

// maxJSONBody bounds what a JSON answer may occupy in memory; a real webwxsync with a
// large group's member list is a few MiB.
const maxJSONBody = 64 << 20

func (c *Client) doJSON(req *http.Request, endpoint string, decode func([]byte) error) error {
	resp, err := c.do(req, endpoint)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return &HTTPError{Endpoint: endpoint, StatusCode: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody+1))
	if err != nil {
		return sanitizeErr(endpoint, err)
	}
	if len(body) > maxJSONBody {
		return fmt.Errorf("%w: %s answer over %d bytes", ErrMalformed, endpoint, maxJSONBody)
	}
	return decode(body)
}

// getText GETs a JS-assignment or XML endpoint and returns the body.
func (c *Client) getText(ctx context.Context, u *url.URL, endpoint string, timeout time.Duration, hdr http.Header) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := newRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", endpoint, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.do(req, endpoint)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	buf := textBufs.Get().(*textBuf)
	defer buf.put()
	buf.lim = io.LimitedReader{R: resp.Body, N: maxText}
	if _, err := buf.ReadFrom(&buf.lim); err != nil {
		return "", resp.StatusCode, sanitizeErr(endpoint, err)
	}
	return buf.String(), resp.StatusCode, nil
}

// maxText is as much of a text answer as getText reads; the rest is dropped.
const maxText = 1 << 20

// textBufs are getText's buffers, reused: every idle login reads a synccheck answer
// every 25 s, and what each poll allocates sets how often the GC runs over all logins.
var textBufs = sync.Pool{New: func() any { return new(textBuf) }}

type textBuf struct {
	bytes.Buffer
	lim io.LimitedReader // a field, so that the reader is not allocated at each read
}

func (b *textBuf) put() {
	b.lim = io.LimitedReader{} // not keep the answer's body reachable
	if b.Cap() > 64<<10 {      // a rare large answer is not held for the next small one
		return
	}
	b.Reset()
	textBufs.Put(b)
}

// newRequest is http.NewRequestWithContext for a URL built here: a URL string would be
// parsed again, and its copy stayed referenced by the request (an idle login's through
// its whole long poll).
func newRequest(ctx context.Context, method string, u *url.URL, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, "", body)
	if err != nil {
		return nil, err
	}
	req.URL, req.Host = u, u.Host
	return req, nil
}

func nowMillis() string { return strconv.FormatInt(time.Now().UnixMilli(), 10) }

// negR is the official `~new Date()` cache buster: a negative int32.
func negR() string { return strconv.FormatInt(int64(^int32(time.Now().UnixMilli())), 10) }

func logger(ctx context.Context) *zerolog.Logger { return zerolog.Ctx(ctx) }
