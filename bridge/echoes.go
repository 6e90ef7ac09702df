package bridge

import (
	"sync"
	"time"
)

// echoTTL is how long a sent message waits for its echo in webwxsync; WeChat delivers it
// within seconds, so an entry this old is one whose echo never comes.
const echoTTL = 10 * time.Minute

// sentEchoes remembers the MsgIDs of what the bridge sent, so their echoes are dropped
// without the database: a caption has no message row at all, and a message row may be
// missing when the database refused the write after WeChat took the message.
type sentEchoes struct {
	mu   sync.Mutex
	sent map[string]time.Time
}

func (s *sentEchoes) add(msgID string) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
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

// take reports whether msgID was sent by the bridge, and forgets it.
func (s *sentEchoes) take(msgID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sent[msgID]; ok {
		delete(s.sent, msgID)
		return true
	}
	return false
}
