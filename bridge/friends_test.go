package bridge

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	// The "sqlite3-fk-wal" driver: the shim registers it in CGO_ENABLED=0 builds,
	// litestream (on top of the shim, via the go.mod replace) in cgo builds.
	_ "github.com/mattn/go-sqlite3"
	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	_ "go.mau.fi/util/dbutil/litestream"

	"wxbridge/bridge/wxdb"
	"wxbridge/portal"
	"wxbridge/protoclient"
)

// openTestDB is the connector's database section on a new SQLite file, as the bridge
// opens it.
func openTestDB(t *testing.T) *wxdb.Database {
	t.Helper()
	raw, err := dbutil.NewWithDialect("file:"+filepath.Join(t.TempDir(), "bridge.db")+"?_txlock=immediate", "sqlite3-fk-wal")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	db := wxdb.New(raw, zerolog.Nop())
	if err := db.Upgrade(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// A friend request received through the protocol is accepted with the command's code
// path; the requester becomes a contact with their real wxid.
func TestAcceptFriend(t *testing.T) {
	db := openTestDB(t)
	wc := &WeChatConnector{DB: db}
	e := newSimEnv(t, wc)
	ctx, c := e.ctx, e.c

	if _, err := e.ctl.FriendRequest(ctx, "wxid_alice", "wxid_erin", "Erin", "Hi, I'm Erin"); err != nil {
		t.Fatal(err)
	}
	var msg *protoclient.Message
	for i := 0; i < 20 && msg == nil; i++ {
		if _, err := e.wx.SyncCheck(ctx); err != nil {
			t.Fatal(err)
		}
		b, err := e.wx.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.wx.Commit(b)
		for i := range b.Messages {
			if b.Messages[i].MsgType == protoclient.MsgVerify {
				msg = &b.Messages[i]
			}
		}
	}
	if msg == nil {
		t.Fatal("no friend request arrived")
	}
	ev := msg.Decode(e.wx.SelfUserName())
	content, req := portal.FriendRequestNotice(ev.Info, ev.Content.(*protoclient.FriendRequest))
	if req.ID != "wxid_erin" || !req.CanAccept() || !strings.Contains(content.Body, portal.AcceptFriendCommand+" wxid_erin") {
		t.Fatalf("request %+v, notice %q", req, content.Body)
	}
	// What handleFriendRequest stores before announcing it.
	if _, err := wc.DB.FriendRequest.Put(ctx, c.Login.ID, wxdb.FriendRequest{ID: req.ID, SessionUser: e.wx.SelfUserName(),
		UserName: req.UserName, Ticket: req.Ticket, WxID: string(req.WxID), NickName: req.NickName}); err != nil {
		t.Fatal(err)
	}

	if _, err := c.acceptFriend(ctx, "wxid_nobody"); err != errNoSuchFriendRequest {
		t.Fatalf("unknown request: %v", err)
	}
	p, err := c.acceptFriend(ctx, "wxid_erin")
	if err != nil || p.NickName != "Erin" {
		t.Fatalf("accept: %+v %v", p, err)
	}
	reqs, err := e.ctl.FriendRequests(ctx, "wxid_alice")
	if err != nil || len(reqs) != 1 || reqs[0].State != "accepted" {
		t.Fatalf("server side: %+v %v", reqs, err)
	}
	if id, proven := c.dir.stableID(req.UserName); id != "wxid_erin" || !proven {
		t.Fatalf("new contact's id = %q %v", id, proven)
	}
	if stored, _ := wc.DB.Identity.Load(ctx, c.Login.ID); stored[req.UserName] != "wxid_erin" {
		t.Fatalf("stored identities = %v", stored)
	}
	if _, err := c.acceptFriend(ctx, "wxid_erin"); err != errNoSuchFriendRequest {
		t.Fatalf("accepted twice: %v", err)
	}

	// A request from an earlier web session cannot be accepted here, and says so.
	if _, err := wc.DB.FriendRequest.Put(ctx, c.Login.ID, wxdb.FriendRequest{ID: "wxid_old", SessionUser: "@previous-session",
		UserName: "@old", Ticket: "t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.acceptFriend(ctx, "wxid_old"); err == nil || !strings.Contains(err.Error(), "accept it on your phone") {
		t.Fatalf("stale request: %v", err)
	}
	// A ticket WeChat does not know (Ret 1) is explained and forgotten.
	if _, err := wc.DB.FriendRequest.Put(ctx, c.Login.ID, wxdb.FriendRequest{ID: "wxid_gone", SessionUser: e.wx.SelfUserName(),
		UserName: "@gone", Ticket: "bogus"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.acceptFriend(ctx, "wxid_gone"); err == nil || !strings.Contains(err.Error(), "no longer accepts") {
		t.Fatalf("bogus ticket: %v", err)
	}
	if _, err := c.acceptFriend(ctx, "wxid_gone"); err != errNoSuchFriendRequest {
		t.Fatalf("bogus ticket kept: %v", err)
	}
	// Not connected: no call to WeChat, and the request stays.
	if _, err := wc.DB.FriendRequest.Put(ctx, c.Login.ID, wxdb.FriendRequest{ID: "wxid_later", SessionUser: e.wx.SelfUserName(),
		UserName: "@later", Ticket: "t"}); err != nil {
		t.Fatal(err)
	}
	c.loggedIn.Store(false)
	if _, err := c.acceptFriend(ctx, "wxid_later"); err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Fatalf("offline: %v", err)
	}
	if _, ok, _ := wc.DB.FriendRequest.Get(ctx, c.Login.ID, "wxid_later"); !ok {
		t.Fatal("offline attempt dropped the request")
	}
}
