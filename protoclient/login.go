package protoclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// QRData is what the QR code must contain for the phone to scan (§3.3).
func QRData(uuid string) string { return "https://" + QRHost + "/l/" + uuid }

// QRImageURL is Tencent's own rendering of the code (a JPEG).
func QRImageURL(uuid string) string { return "https://" + QRHost + "/qrcode/" + uuid }

// NewQRLogin asks jslogin for a login uuid; show QRData(uuid) as a QR code and call
// PollLogin with it.
func (c *Client) NewQRLogin(ctx context.Context) (string, error) {
	redirect := "https://wx.qq.com" + cgi("webwxnewloginpage")
	if !c.opts.NormalMode {
		redirect += "?mod=desktop"
	}
	q := query{}
	q.Set("appid", appID)
	q.Set("redirect_uri", redirect)
	q.Set("fun", "new")
	q.Set("lang", "zh_CN")
	q.Set("_", nowMillis())
	body, status, err := c.getText(ctx, c.roleURL(roleLogin, "/jslogin", q), "jslogin", c.opts.APITimeout, nil)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", &HTTPError{Endpoint: "jslogin", StatusCode: status}
	}
	res, err := ParseJSLogin(body)
	if err != nil {
		return "", err
	}
	if res.Code != 200 {
		return "", fmt.Errorf("jslogin answered code %d (the IP may be blocked)", res.Code)
	}
	return res.UUID, nil
}

// Login poll codes (§3.4).
const (
	LoginWaiting   = 408
	LoginScanned   = 201
	LoginConfirmed = 200
	LoginExpired   = 400
	LoginCancelled = 202
)

// PollLogin runs one login long poll. It returns the result for 408 (poll again), 201
// (scanned; UserAvatar set) and 200 (confirmed; pass the result to CompleteLogin);
// ErrQRExpired for 400 and ErrQRCancelled for 202. tip is 1 on the first poll after a
// QR code was shown and 0 afterwards, as the official client sends it.
func (c *Client) PollLogin(ctx context.Context, uuid string, tip int) (LoginPollResult, error) {
	q := query{}
	q.Set("loginicon", "true")
	q.Set("uuid", uuid)
	q.Set("tip", strconv.Itoa(tip))
	q.Set("r", negR())
	q.Set("_", nowMillis())
	body, status, err := c.getText(ctx, c.roleURL(roleLogin, cgi("login"), q), "login", c.opts.LongPollTimeout, nil)
	if err != nil {
		// The server holds the poll; our own timeout firing means "nothing yet".
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return LoginPollResult{Code: LoginWaiting}, nil
		}
		return LoginPollResult{}, err
	}
	if status != http.StatusOK {
		return LoginPollResult{}, &HTTPError{Endpoint: "login", StatusCode: status}
	}
	res, err := ParseLoginPoll(body)
	if err != nil {
		return res, err
	}
	switch res.Code {
	case LoginWaiting, LoginScanned, LoginConfirmed:
		return res, nil
	case LoginExpired:
		return res, ErrQRExpired
	case LoginCancelled:
		return res, ErrQRCancelled
	default:
		return res, fmt.Errorf("login poll answered code %d", res.Code)
	}
}

// CompleteLogin exchanges the confirmed poll's redirect_uri for credentials
// (webwxnewloginpage), then runs webwxinit and webwxstatusnotify (Code 3). A ret of
// 1203 comes back as *LoginRefusedError.
func (c *Client) CompleteLogin(ctx context.Context, redirectURI string) (*InitResponse, error) {
	hosts, err := HostsFromRedirect(redirectURI)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(redirectURI)
	if err != nil {
		return nil, fmt.Errorf("%w: redirect_uri", ErrMalformed)
	}
	// The official client follows redirect_uri as it came and adds its own parameters
	// (those the server did not put there already).
	raw := fillEmpty(u.RawQuery, "fun", "new")
	raw = fillEmpty(raw, "version", "v2")
	if !c.opts.NormalMode {
		raw = fillEmpty(raw, "mod", "desktop")
	}
	// A fresh login replaces whatever session was here before, but keeps the cookie jar:
	// the long-lived device cookies are what make push login possible later.
	c.mu.Lock()
	c.sess = Session{Hosts: hosts}
	c.mu.Unlock()
	target := &url.URL{Scheme: "https", Host: hosts.Web, Path: u.Path, RawQuery: raw}
	hdr := http.Header{}
	if !c.opts.NormalMode {
		hdr.Set("client-version", "2.0.0")
		hdr.Set("extspam", uosExtspam)
		hdr.Set("Referer", "https://"+hosts.Web+"/?&lang=zh_CN&target=t")
	}
	// Any status: before version=v2 a successful answer was a 301 without Location
	// carrying the XML in its body (§3.5).
	body, _, err := c.getText(ctx, target, "webwxnewloginpage", c.opts.APITimeout, hdr)
	if err != nil {
		return nil, err
	}
	info, err := ParseNewLoginPage([]byte(body))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.sess.Uin = info.Wxuin
	c.sess.Sid = info.Wxsid
	c.sess.Skey = info.Skey
	c.sess.PassTicket = info.PassTicket
	c.mu.Unlock()
	init, err := c.Init(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.StatusNotify(ctx, StatusNotifyInited, c.SelfUserName()); err != nil {
		// The official client ignores this failing; the session works without it.
		logger(ctx).Warn().Err(err).Msg("webwxstatusnotify after login failed")
	}
	return init, nil
}

// PushLogin asks the phone to confirm a new login without a QR scan (§3.6). It needs the
// device cookies and uin of an earlier login (a restored or logged-out session). On
// success poll the returned uuid with PollLogin(tip 1) and CompleteLogin.
func (c *Client) PushLogin(ctx context.Context) (string, error) {
	c.mu.Lock()
	uin, web := c.sess.Uin, c.sess.Hosts.Web
	c.mu.Unlock()
	if uin == 0 || web == "" {
		return "", ErrPushLoginUnavailable
	}
	q := query{}
	q.Set("uin", strconv.FormatInt(uin, 10))
	if !c.opts.NormalMode {
		q.Set("mod", "desktop")
	}
	return c.pushLoginUUID(ctx, q)
}

func (c *Client) pushLoginUUID(ctx context.Context, q query) (string, error) {
	body, status, err := c.getText(ctx, c.roleURL(roleWeb, cgi("webwxpushloginurl"), q), "webwxpushloginurl", c.opts.APITimeout, nil)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", &HTTPError{Endpoint: "webwxpushloginurl", StatusCode: status}
	}
	var res PushLoginResponse
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		return "", fmt.Errorf("%w: webwxpushloginurl: %v", ErrMalformed, err)
	}
	if strings.TrimSpace(string(res.Ret)) != "0" || res.UUID == "" {
		return "", fmt.Errorf("%w (ret %s: %s)", ErrPushLoginUnavailable, res.Ret, res.Msg)
	}
	return res.UUID, nil
}
