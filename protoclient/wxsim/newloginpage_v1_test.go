package wxsim_test

import (
	"encoding/xml"
	"testing"
)

// Without version=v2 (wechat4u follows redirect_uri as it is) the real success answer is
// a 301 with no Location and the XML in the body (reference §3.5); with v2 it is a 200.
func TestNewLoginPageWithoutV2Is301(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	w := e.client()
	uuid := w.jslogin()
	e.must(e.ctl.Scan(e.ctx, uuid, "wxid_alice"))
	e.must(e.ctl.Confirm(e.ctx, uuid))
	m := reRedirect.FindStringSubmatch(w.poll(uuid))
	if m == nil {
		t.Fatal("no redirect after confirm")
	}
	resp, body := w.get(m[1])
	var x loginXML
	if err := xml.Unmarshal([]byte(body), &x); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "" || x.Ret != 0 || x.Skey == "" || x.Wxsid == "" {
		t.Fatalf("without v2: %d Location=%q %+v", resp.StatusCode, resp.Header.Get("Location"), x)
	}
	if len(resp.Cookies()) == 0 {
		t.Fatal("the 301 must carry the session cookies")
	}
}
