package protoclient

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
)

// Parsers for the answers that are not JSON: the JS-assignment texts of jslogin, the
// login poll and synccheck (§2.3), and the XML of webwxnewloginpage (§3.5). They are
// tolerant of spacing, because hand-written servers and old captures differ, but strict
// about what they return: a field that is not there is an error, not a zero.

var (
	reQRCode    = regexp.MustCompile(`window\.QRLogin\.code\s*=\s*(\d+)\s*;`)
	reQRUUID    = regexp.MustCompile(`window\.QRLogin\.uuid\s*=\s*"([^"]*)"`)
	rePollCode  = regexp.MustCompile(`window\.code\s*=\s*(\d+)\s*;`)
	rePollAvat  = regexp.MustCompile(`window\.userAvatar\s*=\s*'([^']*)'`)
	rePollRedir = regexp.MustCompile(`window\.redirect_uri\s*=\s*"([^"]*)"`)
)

// JSLoginResult is the answer of jslogin.
type JSLoginResult struct {
	Code int
	UUID string
}

// ParseJSLogin parses `window.QRLogin.code = 200; window.QRLogin.uuid = "…";`.
func ParseJSLogin(body string) (JSLoginResult, error) {
	m := reQRCode.FindStringSubmatch(body)
	if m == nil {
		return JSLoginResult{}, fmt.Errorf("%w: jslogin: no code in %q", ErrMalformed, truncate(body, 80))
	}
	code, _ := strconv.Atoi(m[1])
	res := JSLoginResult{Code: code}
	if u := reQRUUID.FindStringSubmatch(body); u != nil {
		res.UUID = u[1]
	}
	if code == 200 && res.UUID == "" {
		return res, fmt.Errorf("%w: jslogin: code 200 without uuid", ErrMalformed)
	}
	return res, nil
}

// LoginPollResult is the answer of the login long poll (§3.4).
type LoginPollResult struct {
	Code        int
	UserAvatar  string // data: URL of the scanning user's avatar, with code 201
	RedirectURI string // with code 200
}

// ParseLoginPoll parses `window.code=…;` and the optional userAvatar / redirect_uri.
func ParseLoginPoll(body string) (LoginPollResult, error) {
	m := rePollCode.FindStringSubmatch(body)
	if m == nil {
		return LoginPollResult{}, fmt.Errorf("%w: login poll: no code in %q", ErrMalformed, truncate(body, 80))
	}
	code, _ := strconv.Atoi(m[1])
	res := LoginPollResult{Code: code}
	if a := rePollAvat.FindStringSubmatch(body); a != nil {
		res.UserAvatar = a[1]
	}
	if r := rePollRedir.FindStringSubmatch(body); r != nil {
		res.RedirectURI = r[1]
	}
	if code == 200 && res.RedirectURI == "" {
		return res, fmt.Errorf("%w: login poll: code 200 without redirect_uri", ErrMalformed)
	}
	return res, nil
}

// SyncCheckResult is the answer of synccheck.
type SyncCheckResult struct {
	Retcode  int
	Selector int
}

// ParseSyncCheck parses `window.synccheck={retcode:"0",selector:"2"}`.
func ParseSyncCheck(body string) (SyncCheckResult, error) {
	// Every idle login parses one every 25 s, so it is read by hand rather than by a
	// regular expression, which allocated its match: the first
	// `retcode\s*:\s*"?(-?\d+)"?\s*,\s*selector\s*:\s*"?(-?\d+)"?` in the body.
	for rest := body; ; {
		i := strings.Index(rest, "retcode")
		if i < 0 {
			return SyncCheckResult{}, fmt.Errorf("%w: synccheck: %q", ErrMalformed, truncate(body, 80))
		}
		rest = rest[i+len("retcode"):]
		rc, after, ok := syncCheckField(rest)
		if !ok {
			continue
		}
		after, ok = skipSyncCheckSpace(after, ',')
		after = strings.TrimLeft(after, reSpace)
		if !ok || !strings.HasPrefix(after, "selector") {
			continue
		}
		sel, _, ok := syncCheckField(after[len("selector"):])
		if !ok {
			continue
		}
		r, err1 := strconv.Atoi(rc)
		s, err2 := strconv.Atoi(sel)
		if err1 != nil || err2 != nil {
			return SyncCheckResult{}, fmt.Errorf("%w: synccheck: %q", ErrMalformed, truncate(body, 80))
		}
		return SyncCheckResult{Retcode: r, Selector: s}, nil
	}
}

// syncCheckField reads `\s*:\s*"?(-?\d+)"?` from the start of s: the number, and what
// follows it.
func syncCheckField(s string) (num, rest string, ok bool) {
	if s, ok = skipSyncCheckSpace(s, ':'); !ok {
		return "", "", false
	}
	s = strings.TrimLeft(s, reSpace)
	s = strings.TrimPrefix(s, `"`)
	n := 0
	if strings.HasPrefix(s, "-") {
		n = 1
	}
	digits := n
	for digits < len(s) && '0' <= s[digits] && s[digits] <= '9' {
		digits++
	}
	if digits == n {
		return "", "", false
	}
	return s[:digits], strings.TrimPrefix(s[digits:], `"`), true
}

// reSpace is what `\s` matches in Go's regular expressions.
const reSpace = " \t\n\f\r"

// skipSyncCheckSpace reads `\s*` and then sep from the start of s.
func skipSyncCheckSpace(s string, sep byte) (string, bool) {
	s = strings.TrimLeft(s, reSpace)
	if s == "" || s[0] != sep {
		return s, false
	}
	return s[1:], true
}

// LoginInfo is the credential set from webwxnewloginpage.
type LoginInfo struct {
	Ret         int    `xml:"ret"`
	Message     string `xml:"message"`
	Skey        string `xml:"skey"`
	Wxsid       string `xml:"wxsid"`
	Wxuin       int64  `xml:"wxuin"`
	PassTicket  string `xml:"pass_ticket"`
	IsGrayScale int    `xml:"isgrayscale"`
	RedirectURL string `xml:"redirecturl"`
}

// ParseNewLoginPage parses the `<error>…</error>` answer of webwxnewloginpage, including
// the browser-rendered form inside `<pre>` with entities (§9.2). A ret other than 0 is a
// *LoginRefusedError carrying the server's message.
func ParseNewLoginPage(body []byte) (LoginInfo, error) {
	b := bytes.TrimSpace(body)
	if i := bytes.Index(b, []byte("&lt;error&gt;")); i >= 0 && !bytes.Contains(b, []byte("<error>")) {
		b = []byte(html.UnescapeString(string(b[i:])))
		if j := bytes.Index(b, []byte("</error>")); j >= 0 {
			b = b[:j+len("</error>")]
		}
	}
	start := bytes.Index(b, []byte("<error>"))
	end := bytes.LastIndex(b, []byte("</error>"))
	if start < 0 || end < start {
		return LoginInfo{}, fmt.Errorf("%w: webwxnewloginpage: no <error> element in %q", ErrMalformed, truncate(string(b), 80))
	}
	var info LoginInfo
	if err := xml.Unmarshal(b[start:end+len("</error>")], &info); err != nil {
		return LoginInfo{}, fmt.Errorf("%w: webwxnewloginpage: %v", ErrMalformed, err)
	}
	if info.Ret != 0 {
		return info, &LoginRefusedError{Ret: info.Ret, Message: strings.TrimSpace(info.Message)}
	}
	if info.Skey == "" || info.Wxsid == "" || info.Wxuin == 0 {
		return info, fmt.Errorf("%w: webwxnewloginpage: ret 0 without credentials", ErrMalformed)
	}
	return info, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
