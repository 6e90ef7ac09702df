package bridge

import (
	"context"
	"sync"
	"time"
)

// echoTTL is how long a sent message waits for its echo in webwxsync; WeChat delivers it
// within seconds, so an entry this old is one whose echo never comes.
const echoTTL = 10 * time.Minute

// echoWait bounds how long the sync loop waits for sends in flight when a message of the
// user's own arrives: long enough for a send's retries, short enough not to stall chats.
const echoWait = 2 * time.Minute

// sentEchoes remembers the MsgIDs of what the bridge sent, so their echoes are dropped
// without the database: a caption has no message row at all, a message row may be missing
// when the database refused the write after WeChat took the message, and the echo can
// arrive before WeChat's answer to the send has been read.
type sentEchoes struct {
	mu       sync.Mutex
	sent     map[string]time.Time
	inFlight int
	idle     chan struct{} // closed when inFlight drops to 0
}

// begin marks a send in flight; end (with the MsgID WeChat gave it, or "") closes it.
func (s *sentEchoes) begin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inFlight == 0 {
		s.idle = make(chan struct{})
	}
	s.inFlight++
}

func (s *sentEchoes) end(msgID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if msgID != "" {
		s.addLocked(msgID)
	}
	if s.inFlight--; s.inFlight == 0 {
		close(s.idle)
	}
}

func (s *sentEchoes) add(msgID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addLocked(msgID)
}

func (s *sentEchoes) addLocked(msgID string) {
	now := time.Now()
	if s.sent == nil {
		s.sent = map[string]time.Time{}
	}
	if len(s.sent) >= 256 && len(s.sent)%256 == 0 {
		for id, at := range s.sent {
			if now.Sub(at) > echoTTL {
				delete(s.sent, id)
			}
		}
	}
	s.sent[msgID] = now
}

// take reports whether msgID was sent by the bridge, and forgets it. When it is not
// known yet but sends are in flight, it may be one of them: wait for them first.
func (s *sentEchoes) take(ctx context.Context, msgID string) bool {
	s.mu.Lock()
	if _, ok := s.sent[msgID]; ok {
		delete(s.sent, msgID)
		s.mu.Unlock()
		return true
	}
	if s.inFlight == 0 {
		s.mu.Unlock()
		return false
	}
	idle := s.idle
	s.mu.Unlock()
	t := time.NewTimer(echoWait)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sent[msgID]
	delete(s.sent, msgID)
	return ok
}
