//go:build e2e

package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the repo's modernc-backed stand-in
	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

// busyWindow is how long another process holds the bridge's database: longer than the
// bridge's 5 s busy timeout, so its writes fail and must be retried, not dropped.
const busyWindow = 12 * time.Second

// TestDatabaseBusy (issue 5, faults from Matrix's side): another process holds the
// bridge's SQLite database locked while WeChat messages arrive in a DM and a group and the
// user writes from Matrix. The bridge waits: when the lock goes, every WeChat message is
// in its room once and in order, and every Matrix message reached WeChat once or was shown
// as failed.
func TestDatabaseBusy(t *testing.T) {
	a := newWorld(t)
	defer a.printDelays(t)
	ctx := t.Context()
	dbPath := a.sqlitePath(t)
	const (
		rue, sam, tia = "wxid_rue", "wxid_sam", "wxid_tia"
		chess         = "chess2026@chatroom"
	)
	acc := a.setupAccount(t, "rue", rue, "Rue", 2005,
		[]wxsim.ContactSpec{{Wxid: sam, Nickname: new("Sam")}, {Wxid: tia, Nickname: new("Tia")}},
		[]wxsim.GroupSpec{{ID: chess, Name: "Chess Club", Members: []string{sam, tia}}})
	u := acc.u
	from := u.Mark()
	a.incomingRef(t, rue, wxsim.WorldMessage{From: sam, Type: 1, Content: "busy: hello"})
	dm := a.awaitMessage(t, u, from, waitPortal, "Sam's first message", harness.MessageWithBody("busy: hello")).Room
	from = u.Mark()
	a.incomingRef(t, rue, wxsim.WorldMessage{From: tia, Chat: chess, Type: 1, Content: "busy: group hello"})
	group := a.awaitMessage(t, u, from, waitPortal, "Tia's first group message", harness.MessageWithBody("busy: group hello")).Room
	skip := a.sentLen(t, rue)
	logSize := fileSize(t, a.e.bridgeLog)

	// Hold the write lock the way another program (a backup tool, sqlite3 shell) would.
	holder, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("lock the bridge database: %v", err)
	}
	locked := time.Now()
	released := false
	release := func() {
		if !released {
			released = true
			if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				t.Errorf("release the bridge database: %v", err)
			}
		}
	}
	defer release()

	var dmBodies, groupBodies, outBodies []string
	for i := range 10 {
		b := fmt.Sprintf("busy: dm %02d", i)
		dmBodies = append(dmBodies, b)
		a.incomingRef(t, rue, wxsim.WorldMessage{From: sam, Type: 1, Content: b})
		if i%2 == 0 {
			g := fmt.Sprintf("busy: group %02d", i)
			groupBodies = append(groupBodies, g)
			a.incomingRef(t, rue, wxsim.WorldMessage{From: sam, Chat: chess, Type: 1, Content: g})
		}
	}
	outEvents := map[string]id.EventID{}
	for i := range 3 {
		b := fmt.Sprintf("busy: from Matrix %d", i)
		outBodies = append(outBodies, b)
		evID, _ := sendContent(t, u, dm, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: b})
		outEvents[b] = evID
	}
	// The fault window: a deliberate wait, as long as the lock is meant to last.
	select {
	case <-time.After(time.Until(locked.Add(busyWindow))):
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	release()
	t.Logf("database held for %s", time.Since(locked).Round(time.Millisecond))

	// Everything arrives once the lock is gone.
	for _, b := range append(append([]string{}, dmBodies...), groupBodies...) {
		u.Must(ctx, waitPortal, from, "WeChat message "+b+" after the lock", harness.MessageWithBody(b))
	}
	failed := map[string]bool{}
	for _, b := range outBodies {
		if a.awaitSentOrFailed(t, u, from, dm, outEvents[b], rue, skip, b) {
			failed[b] = true
		}
	}

	// Sentinels each way: whatever the retries doubled is in the log before them.
	a.incomingRef(t, rue, wxsim.WorldMessage{From: sam, Type: 1, Content: "busy: sentinel"})
	u.Must(ctx, waitPortal, from, "the sentinel", harness.MessageWithBody("busy: sentinel"))
	if _, err := u.Client.SendText(ctx, dm, "busy: sentinel out"); err != nil {
		t.Fatal(err)
	}
	a.awaitSent(t, rue, skip, "busy: sentinel out", func(m wxsim.SentMessage) bool { return m.Content == "busy: sentinel out" })

	checkOnceInOrder := func(room id.RoomID, bodies []string) {
		t.Helper()
		counts := u.BodyCounts(room)
		for _, b := range bodies {
			if counts[b] != 1 {
				t.Errorf("%q is in its room %d times, want once", b, counts[b])
			}
		}
		var order []string
		for _, s := range u.Events(from) {
			if s.Room == room && s.IsMessage() && !s.IsEdit() && strings.HasPrefix(s.Body(), "busy: ") {
				order = append(order, s.Body())
			}
		}
		next := 0
		for _, b := range order {
			if next < len(bodies) && b == bodies[next] {
				next++
			}
		}
		if next != len(bodies) {
			t.Errorf("messages out of order in their room: got %q, want %q in this order", order, bodies)
		}
	}
	checkOnceInOrder(dm, dmBodies)
	checkOnceInOrder(group, groupBodies)
	counts := u.BodyCounts(dm)
	sent, err := a.ctl.Sent(ctx, rue)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range outBodies {
		n := 0
		for _, m := range sent[skip:] {
			if m.Content == b {
				n++
			}
		}
		switch {
		case n > 1:
			t.Errorf("%q reached WeChat %d times", b, n)
		case n == 0 && !failed[b]:
			t.Errorf("%q neither reached WeChat nor was shown as failed", b)
		case n == 1 && failed[b]:
			t.Errorf("%q reached WeChat but was shown as failed", b)
		}
		if counts[b] != 1 {
			t.Errorf("%q is in the room %d times (WeChat's echo bridged back?)", b, counts[b])
		}
	}
	if len(failed) > 0 {
		t.Logf("shown as failed while the database was held: %v", failed)
	}
	// The test means something only if the bridge did meet the lock.
	if !logMentionsSince(t, a.e.bridgeLog, logSize, "database is locked", "SQLITE_BUSY") {
		t.Errorf("the bridge log shows no locked database: the test did not exercise the fault")
	}
}

// sqlitePath is the bridge's SQLite file from its config; the test is skipped on
// PostgreSQL.
func (a *afternoon) sqlitePath(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(a.e.bridge.Config)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Database struct {
			Type string `yaml:"type"`
			URI  string `yaml:"uri"`
		} `yaml:"database"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Database.Type, "sqlite") {
		t.Skipf("database type %q: the locked-file test is for SQLite", c.Database.Type)
	}
	p := strings.TrimPrefix(c.Database.URI, "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// execWhileDown runs one statement on the bridge's SQLite file (dbPath, from sqlitePath,
// taken before the bridge is stopped so that a skip does not leave it down) and returns
// the rows it changed: a crash's leftovers made on purpose while the bridge is down.
func execWhileDown(t *testing.T, dbPath, query string, args ...any) int64 {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.ExecContext(t.Context(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// logMentionsSince reports whether the file, from offset on, contains any of the words.
func logMentionsSince(t *testing.T, path string, offset int64, words ...string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if offset > int64(len(b)) {
		offset = 0
	}
	s := string(b[offset:])
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
