package protoclient

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// SyncCheck runs one synccheck long poll with the SyncCheckKey (else the SyncKey). A
// logout retcode (1100/1101/1102) comes back as *LoggedOutError; other retcodes are in
// the result for the caller to back off on. A client-side timeout of the long poll is
// reported as selector 0, "nothing new" (§8.3).
func (c *Client) SyncCheck(ctx context.Context) (SyncCheckResult, error) {
	if err := c.requireLogin(); err != nil {
		return SyncCheckResult{}, err
	}
	c.mu.Lock()
	s := c.sess
	key := s.checkKey()
	c.mu.Unlock()
	q := make(query, 0, 7) // the idle loop's request: one allocation for its parameters
	q.Set("r", nowMillis())
	q.Set("skey", s.Skey)
	q.Set("sid", s.Sid)
	q.Set("uin", strconv.FormatInt(s.Uin, 10))
	q.Set("deviceid", newDeviceID())
	q.Set("synckey", key.String())
	q.Set("_", nowMillis())
	body, status, err := c.getText(ctx, c.roleURL(rolePush, cgi("synccheck"), q), "synccheck", c.opts.LongPollTimeout, nil)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return SyncCheckResult{}, nil
		}
		return SyncCheckResult{}, err
	}
	if status != http.StatusOK {
		return SyncCheckResult{}, &HTTPError{Endpoint: "synccheck", StatusCode: status}
	}
	res, err := ParseSyncCheck(body)
	if err != nil {
		return res, err
	}
	if IsLoggedOutCode(res.Retcode) {
		return res, &LoggedOutError{Retcode: res.Retcode, Endpoint: "synccheck"}
	}
	return res, nil
}

// SyncBatch is what one webwxsync delivered, with the cursors that follow it. The
// client does not move its cursor until Commit: a bridge commits only once the batch is
// safely stored, so a crash in between replays the batch instead of losing it.
type SyncBatch struct {
	// Events are the batch's messages, decoded: what a client reads. Messages are the
	// same messages as the wire gave them, one for one.
	Events             []Event
	Messages           []Message
	ModContacts        []Contact
	DelContacts        []DelContact
	ModChatRoomMembers []json.RawMessage
	// Profile is set only when the account's own profile changed (BitFlag 190).
	Profile      *Profile
	ContinueFlag int
	SyncKey      SyncKey
	SyncCheckKey *SyncKey
	// Malformed lists the entries that could not be decoded (wrong JSON types that
	// cannot be coerced, a message without MsgId, …). They are not retried: the cursor
	// moves past them with the batch, so the caller should tell the user what was lost.
	Malformed []MalformedEntry
}

// Empty reports whether the batch carries nothing, not even a malformed entry.
func (b *SyncBatch) Empty() bool {
	return len(b.Messages) == 0 && len(b.ModContacts) == 0 && len(b.DelContacts) == 0 &&
		len(b.ModChatRoomMembers) == 0 && b.Profile == nil && len(b.Malformed) == 0
}

// Sync runs one webwxsync with the current SyncKey and returns the batch without
// committing its cursor. Only one Sync runs at a time per client. Entries that do not
// decode are logged and listed in the batch's Malformed; the rest of the batch is
// delivered. Only an answer whose BaseResponse or SyncKey is missing or broken fails
// (ErrMalformed).
func (c *Client) Sync(ctx context.Context) (*SyncBatch, error) {
	if err := c.requireLogin(); err != nil {
		return nil, err
	}
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	q := query{}
	q.Set("sid", s.Sid)
	q.SetLiteralAt("skey", s.Skey)
	q.Set("lang", "zh_CN")
	q.Set("pass_ticket", s.PassTicket)
	var res *syncAnswer
	err := c.postJSONWith(ctx, roleWeb, "webwxsync", q, struct {
		BaseRequest BaseRequest `json:"BaseRequest"`
		SyncKey     SyncKey     `json:"SyncKey"`
		RR          int64       `json:"rr"`
	}{c.baseRequest(), s.SyncKey.Normalized(), int64(^int32(time.Now().UnixMilli()))}, func(body []byte) (err error) {
		res, err = decodeSyncResponse(body)
		return err
	})
	if err != nil {
		return nil, err
	}
	if res.skey != "" {
		c.mu.Lock()
		c.sess.Skey = res.skey
		c.mu.Unlock()
	}
	b := &res.batch
	b.Events = decodeMessages(b.Messages, c.SelfUserName())
	decodeNames(b.ModContacts)
	if len(b.Malformed) > 0 {
		log := logger(ctx)
		for _, m := range b.Malformed {
			log.Warn().Err(m.Err).Str("kind", m.Kind).Str("msg_id", m.MsgID).Int("size", m.Size).
				Msg("dropped a webwxsync entry that does not decode; the rest of the batch goes on")
		}
	}
	return b, nil
}

// Commit moves the cursors past a batch. Keys with Count 0 are ignored, as the
// official client does (§4.6); the two keys are replaced wholesale, never merged.
func (c *Client) Commit(b *SyncBatch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b.SyncKey.Valid() {
		c.sess.SyncKey = b.SyncKey.Normalized()
	}
	if b.SyncCheckKey != nil && b.SyncCheckKey.Valid() {
		k := b.SyncCheckKey.Normalized()
		c.sess.SyncCheckKey = &k
	}
}

// SyncKey returns the committed webwxsync cursor.
func (c *Client) SyncKey() SyncKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.SyncKey
}

// SessionAfter is the session as it will be once b is committed: what a caller stores
// together with the batch's events, before returning from its SyncHandler.
func (c *Client) SessionAfter(b *SyncBatch) *Session {
	s := c.Session()
	if b.SyncKey.Valid() {
		s.SyncKey = b.SyncKey.Normalized()
	}
	if b.SyncCheckKey != nil && b.SyncCheckKey.Valid() {
		k := b.SyncCheckKey.Normalized()
		s.SyncCheckKey = &k
	}
	return s
}

// SyncState is what the sync loop reports to its caller.
type SyncState int

const (
	// SyncConnected: a synccheck or webwxsync answered normally.
	SyncConnected SyncState = iota
	// SyncRetrying: requests are failing; the loop is backing off and will retry.
	SyncRetrying
)

// SyncHandler receives each non-empty batch. Returning nil commits the batch's cursor;
// returning an error leaves it, and the batch is delivered again after a back-off.
//
// Within one RunSync, a message is handed over once: the server's redeliveries (a
// duplicated batch, a cursor it did not advance) of a message whose batch the handler
// already accepted are dropped when MsgId and content are the same, for the last
// recentMessages messages. The caller still dedupes by MsgId across restarts (a crash
// between storing a batch and committing its cursor replays the batch) and decides what
// a MsgId reused with other content means; RunSync passes those on.
type SyncHandler func(ctx context.Context, b *SyncBatch) error

// SyncOptions tune RunSync.
type SyncOptions struct {
	// OnState is called when the loop's state changes (and with the error that made it
	// retry). Optional.
	OnState func(state SyncState, err error)
	// MinBackoff and MaxBackoff bound the wait after a failure (default 1 s and 60 s);
	// it doubles on each consecutive failure. Rate limiting (1205) waits MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
}

// RunSync runs the synccheck → webwxsync loop until ctx ends or the session is logged
// out (*LoggedOutError). Failures back off exponentially up to MaxBackoff, so a broken
// server never sees a tight loop: the back-off is reset only once a whole round has
// succeeded (synccheck with nothing new, or a batch handled), not by a synccheck that
// succeeds before a failing webwxsync. ContinueFlag makes it sync again without
// waiting; a cursor the server does not move (an empty or repeated answer to a
// synccheck that reports changes) makes it wait, growing up to MaxBackoff.
func (c *Client) RunSync(ctx context.Context, handle SyncHandler, opts SyncOptions) error {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(60*time.Second, opts.MinBackoff)
	}
	log := logger(ctx)
	bo := backoff{min: opts.MinBackoff, max: opts.MaxBackoff}
	state := SyncState(-1)
	setState := func(s SyncState, err error) {
		if s != state {
			state = s
			if opts.OnState != nil {
				opts.OnState(s, err)
			}
		}
	}
	fail := func(err error, wait time.Duration) error {
		var lo *LoggedOutError
		if errors.As(err, &lo) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if wait == 0 {
			wait = bo.next()
		} else {
			bo.n++
		}
		setState(SyncRetrying, err)
		log.Warn().Err(err).Dur("retry_in", wait).Int("failures", bo.n).Msg("wechat sync failed, backing off")
		return sleepCtx(ctx, wait)
	}
	more := false
	idle := backoff{min: opts.MinBackoff, max: opts.MaxBackoff}
	recent := newRecentMessages(recentMessages)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !more {
			res, err := c.SyncCheck(ctx)
			if err != nil {
				if err := fail(err, 0); err != nil {
					return err
				}
				continue
			}
			if res.Retcode != 0 {
				wait := time.Duration(0)
				if res.Retcode == 1205 {
					wait = opts.MaxBackoff
				}
				if err := fail(&APIError{Endpoint: "synccheck", Ret: res.Retcode}, wait); err != nil {
					return err
				}
				continue
			}
			if res.Selector == 0 {
				setState(SyncConnected, nil)
				bo.reset()
				continue
			}
		}
		b, err := c.Sync(ctx)
		if err != nil {
			wait := time.Duration(0)
			var ae *APIError
			if errors.As(err, &ae) && ae.RateLimited() {
				wait = opts.MaxBackoff
			}
			if err := fail(err, wait); err != nil {
				return err
			}
			continue
		}
		handed := recent.filter(b)
		if dropped := len(handed.dropped); dropped > 0 {
			log.Debug().Int("messages", dropped).Msg("dropped messages webwxsync delivered again")
		}
		if !b.Empty() {
			if err := handle(ctx, b); err != nil {
				if err := fail(err, 0); err != nil {
					return err
				}
				more = true
				continue
			}
			recent.add(handed.keys)
		}
		unchanged := !b.SyncKey.Valid() || b.SyncKey.String() == c.SyncKey().String()
		c.Commit(b)
		setState(SyncConnected, nil)
		bo.reset()
		more = b.ContinueFlag != 0
		// synccheck saying "something new" while webwxsync keeps the cursor is the
		// selector 3/6/7 loop users hit (§7.2), and a cursor the server does not move
		// brings the same batch again; never let either spin.
		if unchanged {
			wait := idle.next()
			if idle.n > 2 {
				log.Debug().Int("idle_syncs", idle.n).Dur("wait", wait).Msg("synccheck reports changes that webwxsync does not deliver")
				if err := sleepCtx(ctx, wait); err != nil {
					return err
				}
			}
		} else {
			idle.reset()
		}
	}
}

// recentMessages is how many handed-over messages RunSync remembers to drop the
// server's redeliveries of them.
const recentMessages = 4096

// msgKey names a message by MsgId and a hash of its content, so that a MsgId reused
// with other content is not taken for a redelivery.
type msgKey struct {
	id string
	fp uint64
}

func messageKey(m *Message) msgKey {
	h := fnv.New64a()
	for _, s := range []string{strconv.Itoa(int(m.MsgType)), string(m.FromUserName), string(m.ToUserName), m.Content,
		strconv.FormatInt(m.CreateTime, 10), strconv.FormatInt(int64(m.NewMsgId), 10),
		strconv.Itoa(int(m.AppMsgType)), m.FileName, m.MediaId, m.Url, m.OriContent} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return msgKey{id: m.MsgId, fp: h.Sum64()}
}

// recentMessagesSet is a bounded set of the last messages handed over.
type recentMessagesSet struct {
	ring []msgKey
	max  int
	next int
	set  map[msgKey]struct{}
}

// newRecentMessages starts empty and grows to n: a thousand idle logins must not each
// hold a full ring (it was most of the bridge's memory at 1,000 logins).
func newRecentMessages(n int) *recentMessagesSet {
	return &recentMessagesSet{max: n, set: map[msgKey]struct{}{}}
}

type filtered struct {
	keys    []msgKey // of the entries left in the batch
	dropped []string // MsgIds of the entries dropped
}

func malformedKey(m *MalformedEntry) msgKey {
	h := fnv.New64a()
	h.Write(m.Raw)
	return msgKey{id: "malformed " + m.Kind + " " + m.MsgID + " " + strconv.Itoa(m.Size), fp: h.Sum64()}
}

// filter drops from b the messages (and malformed entries, so that the user is told
// once) already handed over, and repeats within b.
func (r *recentMessagesSet) filter(b *SyncBatch) filtered {
	var f filtered
	if len(b.Malformed) > 0 {
		kept := b.Malformed[:0:0]
		for i := range b.Malformed {
			k := malformedKey(&b.Malformed[i])
			if _, seen := r.set[k]; seen || slices.Contains(f.keys, k) {
				f.dropped = append(f.dropped, b.Malformed[i].MsgID)
				continue
			}
			f.keys = append(f.keys, k)
			kept = append(kept, b.Malformed[i])
		}
		b.Malformed = kept
	}
	if len(b.Messages) == 0 {
		return f
	}
	kept := b.Messages[:0:0]
	withEvents := len(b.Events) == len(b.Messages)
	var keptEvents []Event
	inBatch := make(map[msgKey]struct{}, len(b.Messages))
	for i := range b.Messages {
		k := messageKey(&b.Messages[i])
		_, seen := r.set[k]
		_, twice := inBatch[k]
		if seen || twice {
			f.dropped = append(f.dropped, k.id)
			continue
		}
		inBatch[k] = struct{}{}
		f.keys = append(f.keys, k)
		kept = append(kept, b.Messages[i])
		if withEvents {
			keptEvents = append(keptEvents, b.Events[i])
		}
	}
	if len(kept) < len(b.Messages) {
		b.Messages = kept
		if withEvents {
			b.Events = keptEvents
		}
	}
	return f
}

func (r *recentMessagesSet) add(keys []msgKey) {
	for _, k := range keys {
		if _, ok := r.set[k]; ok {
			continue
		}
		if len(r.ring) < r.max {
			r.ring = append(r.ring, k)
		} else {
			delete(r.set, r.ring[r.next])
			r.ring[r.next] = k
			r.next = (r.next + 1) % len(r.ring)
		}
		r.set[k] = struct{}{}
	}
}

type backoff struct {
	min, max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	d := b.min << min(b.n, 20)
	if d > b.max || d <= 0 {
		d = b.max
	}
	b.n++
	return d
}

func (b *backoff) reset() { b.n = 0 }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
