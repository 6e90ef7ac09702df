package bridge

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"wxbridge/protoclient"
)

// portalConcurrency bounds how many chats of one login are bridged at the same time. The
// homeserver is the bottleneck of a burst and serves different rooms in parallel, so a
// burst over many chats goes through faster with more of them at once; the bound keeps a
// login's backlog after an outage from opening a connection per chat (the burst A/B in
// test/bench/HISTORY.md, "64 chats at once", chose the value).
const portalConcurrency = 64

// maxPipelined bounds the messages of a login received from WeChat but not yet in Matrix.
// When it is reached, the next batch waits for room (pipelineWait), and then is left with
// WeChat, which sends it again on the next webwxsync: a homeserver outage costs memory
// only up to here, and the session keeps being polled as a browser would.
const maxPipelined = 2048

// pipelineWait is how long a batch waits for room before it is left with WeChat.
const pipelineWait = 30 * time.Second

// errPipelineFull: Matrix is behind by maxPipelined messages; WeChat keeps the batch.
var errPipelineFull = errors.New("matrix is behind: WeChat keeps the messages until the bridge catches up")

// pipeline carries a login's WeChat messages to Matrix with no barrier between batches:
// each chat is a FIFO, so one chat's messages keep their order, while different chats
// run at the same time and a slow chat never holds the others back, within a batch or
// across batches.
//
// Nothing may be lost or doubled, so the cursor stored with the login (what a restart
// resumes from) moves only past batches whose every message is done, and in their
// order: the watermark. WeChat's in-memory cursor runs ahead, which is what lets the next
// webwxsync overlap with this batch. After a crash, WeChat sends again what lies after
// the watermark; messages stored since are dropped by their MsgId, and those in flight
// at the crash (sent, row not yet stored) are found in their rooms by the replay check
// (replay.go), which stays armed until the pipeline has drained the redelivered backlog.
// A message that fails is retried in place, in its chat's FIFO, as long as the error is
// the homeserver's or the database's; other errors give up after maxMessageAttempts.
type pipeline struct {
	sink pipelineSink
	ctx  context.Context // ends with the sync run (Disconnect)
	// roomWait is how long a batch waits for room (pipelineWait); firstRetry the first pause
	// before a failed message is tried again.
	roomWait, firstRetry time.Duration

	slots chan struct{}
	wg    sync.WaitGroup

	storeMu sync.Mutex // see complete
	mu      sync.Mutex
	// changed is closed when work completes, for whoever waits (add, drain); made only
	// when someone does, as most completions have no one waiting.
	changed chan struct{}
	chats   map[protoclient.UserName]*chatQueue
	batches []*pendingBatch // received and not complete, oldest first
	pending int             // messages received and not done
	// caughtUp: the last batch received had no ContinueFlag, so WeChat has sent what it
	// held; once that is drained, the replay check may end.
	caughtUp bool
}

type pendingBatch struct {
	left      int
	session   *protoclient.Session // the session as stored once this batch is complete
	malformed []protoclient.MalformedEntry
	messages  int
	contacts  int
}

type chatQueue struct {
	items   []pipelineItem
	running bool
}

type pipelineItem struct {
	ev *protoclient.Event
	b  *pendingBatch
}

// pipelineSink is what the pipeline does with messages and cursors (the client; a
// recorder in the tests).
type pipelineSink interface {
	// bridgeMessage makes one attempt; an error means "try again".
	bridgeMessage(ctx context.Context, ev *protoclient.Event) error
	// storeCursor stores the session with the cursor after the done batches, and tells
	// the user about their malformed entries.
	storeCursor(ctx context.Context, cursor *protoclient.Session, malformed []protoclient.MalformedEntry) error
	// retrying: an attempt failed, so the room may hold an event without its row.
	retrying()
	// drained: everything WeChat had to send is in Matrix.
	drained()
}

func newPipeline(ctx context.Context, sink pipelineSink, concurrency int) *pipeline {
	return &pipeline{sink: sink, ctx: ctx, roomWait: pipelineWait, firstRetry: time.Second,
		slots: make(chan struct{}, concurrency), chats: map[protoclient.UserName]*chatQueue{}}
}

// add takes a batch's events, waiting up to pipelineWait for room. It fails only when
// the pipeline is full or ctx ends; then nothing of the batch was taken.
func (p *pipeline) add(ctx context.Context, b *protoclient.SyncBatch, session *protoclient.Session) error {
	n := 0
	for i := range b.Events {
		if bridged(&b.Events[i]) {
			n++
		}
	}
	timer := time.NewTimer(p.roomWait)
	defer timer.Stop()
	p.mu.Lock()
	for p.pending > 0 && p.pending+n > maxPipelined {
		ch := p.changedLocked()
		p.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return errPipelineFull
		case <-ctx.Done():
			return ctx.Err()
		case <-p.ctx.Done():
			return p.ctx.Err()
		}
		p.mu.Lock()
	}
	pb := &pendingBatch{left: n, session: session, malformed: b.Malformed, messages: len(b.Messages), contacts: len(b.ModContacts)}
	p.batches = append(p.batches, pb)
	p.pending += n
	p.caughtUp = b.ContinueFlag == 0
	var start []*chatQueue
	for i := range b.Events {
		ev := &b.Events[i]
		if !bridged(ev) {
			continue
		}
		q := p.chats[ev.Info.Chat]
		if q == nil {
			q = &chatQueue{}
			p.chats[ev.Info.Chat] = q
		}
		q.items = append(q.items, pipelineItem{ev: ev, b: pb})
		if !q.running {
			q.running = true
			start = append(start, q)
		}
	}
	p.wg.Add(len(start))
	p.mu.Unlock()
	for _, q := range start {
		go p.work(q)
	}
	// A batch without messages (contacts only) completes here, in its turn.
	p.complete()
	return nil
}

// bridged reports whether an event goes through a chat's FIFO: phone-side state and id
// lists are handled when the batch arrives.
func bridged(ev *protoclient.Event) bool {
	switch ev.Content.(type) {
	case *protoclient.PhoneState, *protoclient.IDList:
		return false
	}
	return true
}

// work runs one chat's FIFO until it is empty, taking a slot per message so that busy
// chats and quiet ones take turns.
func (p *pipeline) work(q *chatQueue) {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		if len(q.items) == 0 {
			q.running = false
			p.mu.Unlock()
			return
		}
		it := q.items[0]
		p.mu.Unlock()
		select {
		case p.slots <- struct{}{}:
		case <-p.ctx.Done():
			return
		}
		ok := p.handle(it.ev)
		<-p.slots
		if !ok {
			return // the sync run ended; what is left comes again after the watermark
		}
		p.mu.Lock()
		q.items[0] = pipelineItem{}
		q.items = q.items[1:]
		it.b.left--
		p.pending--
		empty := len(q.items) == 0
		if empty {
			// The drained queue's array is dropped with it, so a burst's memory is not
			// kept by an idle chat.
			delete(p.chats, it.ev.Info.Chat)
			q.running = false
		}
		p.mu.Unlock()
		p.complete()
		if empty {
			return
		}
	}
}

// handle bridges one message, retrying in place while the error says to; false when the
// sync run ended first.
func (p *pipeline) handle(ev *protoclient.Event) bool {
	ctx := p.ctx
	wait := p.firstRetry
	for {
		err := p.sink.bridgeMessage(ctx, ev)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		p.sink.retrying()
		zerolog.Ctx(ctx).Warn().Err(err).Str("msg_id", ev.Info.ID).Dur("retry_in", wait).
			Msg("Bridging a WeChat message failed; retrying it in place (its chat waits, the others go on)")
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
		wait = min(2*wait, time.Minute)
	}
}

// complete stores the cursor of the batches that are now done, oldest first, and
// reports the drain once the redelivered backlog is in Matrix.
func (p *pipeline) complete() {
	// Held from taking the done batches to storing their cursor: two workers completing
	// at once must not store an older cursor over a newer one.
	p.storeMu.Lock()
	defer p.storeMu.Unlock()
	p.mu.Lock()
	var done []*pendingBatch
	for len(p.batches) > 0 && p.batches[0].left == 0 {
		done = append(done, p.batches[0])
		p.batches[0] = nil
		p.batches = p.batches[1:]
	}
	drained := p.pending == 0 && p.caughtUp
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
	p.mu.Unlock()
	if len(done) == 0 {
		return
	}
	var malformed []protoclient.MalformedEntry
	n, k := 0, 0
	for _, b := range done {
		malformed = append(malformed, b.malformed...)
		n += b.messages
		k += b.contacts
	}
	// Only the newest complete cursor is stored; the others are behind it.
	if err := p.sink.storeCursor(p.ctx, done[len(done)-1].session, malformed); err != nil {
		// The next complete batch stores it; until then a restart redelivers a little more.
		zerolog.Ctx(p.ctx).Err(err).Msg("Saving the WeChat sync cursor failed")
		return
	}
	if drained {
		p.sink.drained()
	}
	zerolog.Ctx(p.ctx).Debug().Int("batches", len(done)).Int("messages", n).Int("contacts", k).Msg("Bridged WeChat batches")
}

// changedLocked is the channel the next completion closes; p.mu is held.
func (p *pipeline) changedLocked() chan struct{} {
	if p.changed == nil {
		p.changed = make(chan struct{})
	}
	return p.changed
}

// drain waits until every message received so far is done, or ctx or the sync run ends.
func (p *pipeline) drain(ctx context.Context) error {
	for {
		p.mu.Lock()
		empty := p.pending == 0
		ch := p.changedLocked()
		p.mu.Unlock()
		if empty {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.ctx.Done():
			return p.ctx.Err()
		}
	}
}

// wait returns once every worker has returned (after the sync run's context ended).
func (p *pipeline) wait() { p.wg.Wait() }

// The client is the pipeline's sink.
var _ pipelineSink = (*WeChatClient)(nil)

func (c *WeChatClient) bridgeMessage(ctx context.Context, ev *protoclient.Event) error {
	return c.handleMessage(ctx, ev)
}

// storeCursor saves the session as it is now (skey, hosts) with the cursor of the done
// batches.
func (c *WeChatClient) storeCursor(ctx context.Context, cursor *protoclient.Session, malformed []protoclient.MalformedEntry) error {
	c.metaMu.Lock()
	s := c.wx.Session()
	s.SyncKey, s.SyncCheckKey = cursor.SyncKey, cursor.SyncCheckKey
	c.meta().Session = s
	err := c.Login.Save(ctx)
	c.metaMu.Unlock()
	c.reportMalformed(ctx, malformed)
	return err
}

// retrying: the failed try may have put the event in the room without its row (the row
// is written after the send, and that write is what fails when the database is busy), so
// the retry looks in the room first.
func (c *WeChatClient) retrying() { c.armReplayCheck() }

func (c *WeChatClient) drained() {
	if c.replayCheck.Swap(false) {
		c.replayMu.Lock()
		c.replayRooms = nil
		c.replayMu.Unlock()
	}
}
