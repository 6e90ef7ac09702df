package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"wxbridge/protoclient"
)

// recordingSink bridges by recording, holds the messages named in block until released,
// and fails the ones named in fail as often as said.
type recordingSink struct {
	mu       sync.Mutex
	bridged  []string
	cursors  []int64
	retries  int
	drains   int
	block    map[string]chan struct{}
	fail     map[string]int
	arrivals chan string
	stored   chan int64
}

func newRecordingSink() *recordingSink {
	return &recordingSink{block: map[string]chan struct{}{}, fail: map[string]int{},
		arrivals: make(chan string, 4096), stored: make(chan int64, 4096)}
}

func (s *recordingSink) bridgeMessage(ctx context.Context, ev *protoclient.Event) error {
	s.mu.Lock()
	gate := s.block[ev.Info.ID]
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[ev.Info.ID] > 0 {
		s.fail[ev.Info.ID]--
		return errors.New("homeserver said 502")
	}
	s.bridged = append(s.bridged, ev.Info.ID)
	s.arrivals <- ev.Info.ID
	return nil
}

func (s *recordingSink) storeCursor(_ context.Context, cursor *protoclient.Session, _ []protoclient.MalformedEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := cursor.SyncKey.List[0].Val
	s.cursors = append(s.cursors, v)
	s.stored <- v
	return nil
}

func (s *recordingSink) retrying() { s.mu.Lock(); s.retries++; s.mu.Unlock() }
func (s *recordingSink) drained()  { s.mu.Lock(); s.drains++; s.mu.Unlock() }

// batch makes a webwxsync batch with cursor seq of messages "chat:n".
func batch(seq int64, more bool, msgs ...string) (*protoclient.SyncBatch, *protoclient.Session) {
	b := &protoclient.SyncBatch{}
	for _, m := range msgs {
		var chat string
		fmt.Sscanf(m, "%1s", &chat)
		b.Events = append(b.Events, protoclient.Event{Info: protoclient.MessageInfo{ID: m, Chat: protoclient.UserName("@" + chat)},
			Content: &protoclient.Text{Text: m}})
	}
	if more {
		b.ContinueFlag = 1
	}
	key := protoclient.SyncKey{Count: 1, List: []protoclient.SyncKeyItem{{Key: 1, Val: seq}}}
	b.SyncKey = key
	return b, &protoclient.Session{SyncKey: key}
}

func await[T comparable](t *testing.T, ch chan T, want ...T) {
	t.Helper()
	got := map[T]bool{}
	deadline := time.After(10 * time.Second)
	for !all(got, want) {
		select {
		case v := <-ch:
			got[v] = true
		case <-deadline:
			t.Fatalf("waited for %v, got %v", want, got)
		}
	}
}

func all[T comparable](got map[T]bool, want []T) bool {
	for _, w := range want {
		if !got[w] {
			return false
		}
	}
	return true
}

// A slow chat holds neither the other chats nor the next batch, while the stored cursor
// waits for it: a restart then resumes before the slow message, so nothing is lost.
func TestPipelineOverlapsBatchesAndKeepsTheCursorBehind(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sink := newRecordingSink()
	release := make(chan struct{})
	sink.block["a1"] = release
	p := newPipeline(ctx, sink, 4)
	for _, b := range []struct {
		seq  int64
		msgs []string
	}{{1, []string{"a1", "b1"}}, {2, []string{"b2", "a2", "c1"}}, {3, []string{"c2"}}} {
		sb, sess := batch(b.seq, false, b.msgs...)
		if err := p.add(ctx, sb, sess); err != nil {
			t.Fatal(err)
		}
	}
	// b and c are bridged through three batches while a's first message hangs.
	await(t, sink.arrivals, "b1", "b2", "c1", "c2")
	sink.mu.Lock()
	if len(sink.cursors) != 0 {
		t.Fatalf("cursor stored past a message not yet bridged: %v", sink.cursors)
	}
	sink.mu.Unlock()
	close(release)
	await(t, sink.arrivals, "a1", "a2")
	await(t, sink.stored, 3)
	if err := p.drain(ctx); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if pos := indexOf(sink.bridged, "a1"); pos > indexOf(sink.bridged, "a2") {
		t.Errorf("chat a out of order: %v", sink.bridged)
	}
	if indexOf(sink.bridged, "b1") > indexOf(sink.bridged, "b2") || indexOf(sink.bridged, "c1") > indexOf(sink.bridged, "c2") {
		t.Errorf("chat b or c out of order: %v", sink.bridged)
	}
	for i := 1; i < len(sink.cursors); i++ {
		if sink.cursors[i] <= sink.cursors[i-1] {
			t.Errorf("stored cursors went back: %v", sink.cursors)
		}
	}
	if sink.drains == 0 {
		t.Error("the drain after the last batch (no ContinueFlag) was not reported")
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// A failing message is tried again in place: its chat waits for it, nothing after it in
// that chat overtakes it, and each failure arms the replay check.
func TestPipelineRetriesInPlace(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sink := newRecordingSink()
	sink.fail["a1"] = 2
	p := newPipeline(ctx, sink, 4)
	p.firstRetry = time.Millisecond
	sb, sess := batch(7, false, "a1", "a2", "b1")
	if err := p.add(ctx, sb, sess); err != nil {
		t.Fatal(err)
	}
	await(t, sink.stored, 7)
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.retries != 2 {
		t.Errorf("retries: %d, want 2", sink.retries)
	}
	if indexOf(sink.bridged, "a1") < 0 || indexOf(sink.bridged, "a1") > indexOf(sink.bridged, "a2") {
		t.Errorf("a2 overtook the failing a1: %v", sink.bridged)
	}
}

// While Matrix is behind by the whole capacity, a further batch is refused after the
// wait (WeChat keeps it and sends it again), and the drain waits for the backlog to be
// delivered as WeChat's last batch before it is reported.
func TestPipelineFullLeavesTheBatchWithWeChat(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sink := newRecordingSink()
	release := make(chan struct{})
	sink.block["a0"] = release
	p := newPipeline(ctx, sink, 4)
	p.roomWait = 20 * time.Millisecond
	msgs := make([]string, maxPipelined)
	for i := range msgs {
		msgs[i] = fmt.Sprintf("a%d", i)
	}
	// More than the capacity is taken when nothing waits, so a large batch never sticks.
	sb, sess := batch(1, true, append(msgs, "b0")...)
	if err := p.add(ctx, sb, sess); err != nil {
		t.Fatalf("first batch into an empty pipeline: %v", err)
	}
	sb, sess = batch(2, false, "c0")
	if err := p.add(ctx, sb, sess); !errors.Is(err, errPipelineFull) {
		t.Fatalf("batch into a full pipeline: %v, want errPipelineFull", err)
	}
	sink.mu.Lock()
	drains := sink.drains
	sink.mu.Unlock()
	if drains != 0 {
		t.Fatal("drain reported while WeChat still had more (ContinueFlag)")
	}
	close(release)
	await(t, sink.stored, 1)
	sb, sess = batch(2, false, "c0")
	if err := p.add(ctx, sb, sess); err != nil {
		t.Fatal(err)
	}
	await(t, sink.stored, 2)
	if err := p.drain(ctx); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.bridged) != maxPipelined+2 {
		t.Errorf("bridged %d messages, want %d", len(sink.bridged), maxPipelined+2)
	}
	if sink.drains == 0 {
		t.Error("no drain reported after WeChat's last batch")
	}
}

// Ending the sync run stops the workers; what they had not finished keeps the cursor.
func TestPipelineStopsWithTheSyncRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	sink := newRecordingSink()
	sink.block["a1"] = make(chan struct{}) // never released
	p := newPipeline(ctx, sink, 4)
	sb, sess := batch(1, false, "a1", "b1")
	if err := p.add(ctx, sb, sess); err != nil {
		t.Fatal(err)
	}
	await(t, sink.arrivals, "b1")
	cancel()
	p.wait()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.cursors) != 0 {
		t.Errorf("cursor stored although a1 was never bridged: %v", sink.cursors)
	}
}
