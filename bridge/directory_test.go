package bridge

import (
	"strings"
	"testing"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

func TestDirectoryIdentity(t *testing.T) {
	d := newDirectory("1001")
	d.setSelf("@self", "")
	d.addContacts([]protoclient.Contact{
		{UserName: "@bob", NickName: "Bob"},
		{UserName: "@stranger", NickName: "Str😄", Sex: 1, City: "Shenzhen"},
		{UserName: "@@family", NickName: "Family", MemberList: []protoclient.Member{
			{UserName: "@self", NickName: "Me"}, {UserName: "@bob", NickName: "Bob"}, {UserName: "@carol", NickName: "Carol"},
		}},
		{UserName: "filehelper", NickName: "文件传输助手"},
	})
	d.learn(map[protoclient.UserName]protoclient.WxID{"@bob": "wxid_bob", "@@family": "12345@chatroom"})

	if id, proven := d.stableID("@bob"); id != "wxid_bob" || !proven {
		t.Fatalf("bob = %q %v", id, proven)
	}
	if id, proven := d.stableID("filehelper"); id != "filehelper" || !proven {
		t.Fatalf("filehelper = %q %v", id, proven)
	}
	// No permanent id: a derived one, never a session UserName.
	id, proven := d.stableID("@stranger")
	if proven || !strings.HasPrefix(string(id), portal.ContactFallbackPrefix) || strings.Contains(string(id), "@") {
		t.Fatalf("stranger = %q %v", id, proven)
	}
	if again, _ := d.stableID("@stranger"); again != id {
		t.Fatal("derived id not stable")
	}
	if id, _ := d.stableID("@nobody"); id != "" {
		t.Fatalf("unknown UserName resolved to %q", id)
	}
	// Group members: a contact keeps its wxid; a non-contact gets an id derived from the
	// group and its nickname, the same in the next session.
	if m := d.memberID("@@family", "@bob"); m != "wxid_bob" {
		t.Fatalf("bob in family = %q", m)
	}
	carol := d.memberID("@@family", "@carol")
	if !strings.HasPrefix(string(carol), portal.MemberFallbackPrefix) {
		t.Fatalf("carol = %q", carol)
	}
	next := newDirectory("1001")
	next.addContacts([]protoclient.Contact{{UserName: "@@fam2", NickName: "Family", MemberList: []protoclient.Member{{UserName: "@carol2", NickName: "Carol"}}}})
	next.learn(map[protoclient.UserName]protoclient.WxID{"@@fam2": "12345@chatroom"})
	if got := next.memberID("@@fam2", "@carol2"); got != carol {
		t.Fatalf("carol after a re-login = %q, want %q", got, carol)
	}
	// Sending needs the current session name for a stable id.
	if u := d.userName("wxid_bob"); u != "@bob" {
		t.Fatalf("userName(wxid_bob) = %q", u)
	}
	if u := d.userName("12345@chatroom"); u != "@@family" {
		t.Fatalf("userName(group) = %q", u)
	}
	if u := d.userName(id); u != "@stranger" {
		t.Fatalf("userName(derived) = %q", u)
	}
	if u := d.userName("wxid_unknown"); u != "" {
		t.Fatalf("unknown wxid resolved to %q", u)
	}
	if m, ok := d.memberByID(carol); !ok || m.NickName != "Carol" {
		t.Fatalf("memberByID = %+v %v", m, ok)
	}
}
