package bridge

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/bridgev2"
)

func TestTransientMatrixError(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("send: %w", mautrix.HTTPError{WrappedError: refused}), true},
		{mautrix.HTTPError{Response: &http.Response{StatusCode: 502}}, true},
		{mautrix.HTTPError{Response: &http.Response{StatusCode: 429}}, true},
		{mautrix.HTTPError{Response: &http.Response{StatusCode: 403}}, false},
		{fmt.Errorf("wrapped: %w", refused), true},
		{errors.New("failed to convert message"), false},
	}
	for _, c := range cases {
		if got := transientMatrixError(c.err); got != c.want {
			t.Errorf("transientMatrixError(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// A database locked by another writer past the busy timeout is retried, never counted
// against the message (which would drop it after a few attempts).
func TestDatabaseErrorIsRetried(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	holder, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.Exec("CREATE TABLE m (id TEXT)"); err != nil {
		t.Fatal(err)
	}
	tx, err := holder.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=20")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, busy := other.Exec("INSERT INTO m VALUES ('x')")
	if busy == nil {
		t.Fatal("a write to a database another connection holds succeeded")
	}
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("failed to get portal: %w", busy), true},
		{fmt.Errorf("%w: failed to save message part to database: %w", bridgev2.ErrDatabaseError, errors.New("x")), true},
		{fmt.Errorf("query: %w", sql.ErrConnDone), true},
		{errors.New("failed to convert message"), false},
		{mautrix.HTTPError{Response: &http.Response{StatusCode: 403}}, false},
	}
	for _, c := range cases {
		if got := databaseError(c.err); got != c.want {
			t.Errorf("databaseError(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// The bridge's own sends are recognised when WeChat echoes them, once, without the
// database; anything else is not.
func TestSentEchoes(t *testing.T) {
	var s sentEchoes
	for i := range 1000 {
		s.add(fmt.Sprint("sent-", i))
	}
	ctx := t.Context()
	if !s.take(ctx, "sent-7") || s.take(ctx, "sent-7") {
		t.Error("an echo of a sent message must be recognised exactly once")
	}
	if s.take(ctx, "from-the-phone") {
		t.Error("a message the bridge did not send taken for an echo")
	}
	old := time.Now().Add(-2 * echoTTL)
	s.mu.Lock()
	for id := range s.sent {
		s.sent[id] = old
	}
	s.mu.Unlock()
	for i := range 256 * 4 {
		s.add(fmt.Sprint("new-", i))
	}
	s.mu.Lock()
	n := len(s.sent)
	s.mu.Unlock()
	if n > 256*4 {
		t.Errorf("%d remembered sends after the old ones expired; echoes that never come must not pile up", n)
	}
}

// An echo that arrives before WeChat's answer to the send has been read is still the
// bridge's own: take waits for the send in flight.
func TestSentEchoArrivesBeforeTheAnswer(t *testing.T) {
	var s sentEchoes
	s.begin()
	got := make(chan bool)
	go func() { got <- s.take(t.Context(), "early") }()
	select {
	case <-got:
		t.Fatal("take decided while the send that produced the echo was still in flight")
	case <-time.After(50 * time.Millisecond):
	}
	s.end("early")
	if !<-got {
		t.Error("the early echo of the bridge's own send was not recognised")
	}
	s.begin()
	s.end("")
	if s.take(t.Context(), "from-the-phone") {
		t.Error("a message from the phone taken for an echo after a failed send")
	}
}
