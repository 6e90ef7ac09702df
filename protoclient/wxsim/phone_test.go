package wxsim_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"wxbridge/protoclient/wxsim"
)

// The phone page is served from the binary under /_wxsim/phone/, with its script and
// styles, and a policy that runs no script but its own.
func TestPhonePageServed(t *testing.T) {
	e := newEnv(t, nil)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := e.ts.Client().Get(e.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get("/_wxsim/phone/")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /_wxsim/phone/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`src="phone.js"`, `href="phone.css"`, `name="viewport"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'self' without unsafe-inline", csp)
	}

	resp, js := get("/_wxsim/phone/phone.js")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("phone.js: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Data reaches the DOM as text only: the script has no way to parse markup.
	if m := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function`).FindString(js); m != "" {
		t.Errorf("phone.js uses %s", m)
	}
	if resp, _ := get("/_wxsim/phone/phone.css"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("phone.css: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Without the slash, as people type it.
	c := *e.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r2, err := c.Get(e.ts.URL + "/_wxsim/phone")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode/100 != 3 || r2.Header.Get("Location") != "/_wxsim/phone/" {
		t.Errorf("GET /_wxsim/phone: %d Location %q, want a redirect to /_wxsim/phone/", r2.StatusCode, r2.Header.Get("Location"))
	}
	if resp, _ := get("/_wxsim/phone/nope.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing file answers %d, want 404", resp.StatusCode)
	}
}

// GET /accounts/{wxid}/groups lists the account's groups with what a page needs to name
// their members, including members who are not contacts.
func TestListGroups(t *testing.T) {
	e := newEnv(t, nil)
	e.setup()
	e.must(e.ctl.CreateGroup(e.ctx, "wxid_alice", wxsim.GroupSpec{ID: "777@chatroom", Name: "Choir", Members: []string{"wxid_bob", "wxid_zoe"},
		DisplayNames: map[string]string{"wxid_bob": "Bass Bob"}}))
	groups, err := e.ctl.Groups(e.ctx, "wxid_alice")
	if err != nil {
		t.Fatal(err)
	}
	var choir *wxsim.GroupInfo
	for i := range groups {
		if groups[i].ID == "777@chatroom" {
			choir = &groups[i]
		}
	}
	if choir == nil {
		t.Fatalf("groups = %+v, want 777@chatroom among them", groups)
	}
	if choir.Name != "Choir" || strings.Join(choir.Members, ",") != "wxid_alice,wxid_bob,wxid_zoe" {
		t.Errorf("Choir = %+v", *choir)
	}
	if choir.DisplayNames["wxid_bob"] != "Bass Bob" || choir.Nicknames["wxid_bob"] != "Bob" || choir.Nicknames["wxid_alice"] != "Alice" {
		t.Errorf("names: display %v, nicknames %v", choir.DisplayNames, choir.Nicknames)
	}
	if _, ok := choir.Nicknames["wxid_zoe"]; !ok {
		t.Errorf("a member who is no contact has no nickname entry: %v", choir.Nicknames)
	}
	if _, err := e.ctl.Groups(e.ctx, "wxid_nobody"); err == nil {
		t.Error("groups of an unknown account: no error")
	}
}
