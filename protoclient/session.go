package protoclient

import (
	"encoding/json"
	"fmt"

	"github.com/rs/zerolog"
)

// Session is everything needed to resume a web login in another process while the
// server still holds it: credentials, the assigned hosts, both sync cursors and the
// cookies with their attributes. It serialises to JSON; it holds secrets, so it is
// stored, never logged (MarshalZerologObject shows only what is safe).
type Session struct {
	Hosts        Hosts    `json:"hosts"`
	Uin          int64    `json:"uin"`
	Sid          string   `json:"sid"`
	Skey         string   `json:"skey"`
	PassTicket   string   `json:"pass_ticket"`
	UserName     UserName `json:"user_name"`
	NickName     string   `json:"nick_name,omitempty"`
	SyncKey      SyncKey  `json:"sync_key"`
	SyncCheckKey *SyncKey `json:"sync_check_key,omitempty"`
	Cookies      []Cookie `json:"cookies"`
}

// MarshalZerologObject logs the non-secret part of a session.
func (s *Session) MarshalZerologObject(e *zerolog.Event) {
	e.Int64("uin", s.Uin).Str("web_host", s.Hosts.Web).Int("sync_key_len", len(s.SyncKey.List))
}

// String never prints secrets, so a session that reaches a %v is harmless.
func (s *Session) String() string {
	return fmt.Sprintf("wechat session uin=%d host=%s", s.Uin, s.Hosts.Web)
}

// Marshal encodes the session as JSON.
func (s *Session) Marshal() ([]byte, error) { return json.Marshal(s) }

// UnmarshalSession decodes a session from JSON.
func UnmarshalSession(b []byte) (*Session, error) {
	var s Session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode wechat session: %w", err)
	}
	if s.Hosts.Web == "" || s.Uin == 0 {
		return nil, fmt.Errorf("decode wechat session: %w", ErrNotLoggedIn)
	}
	return &s, nil
}

// LoggedIn reports whether the session has credentials.
func (s *Session) LoggedIn() bool { return s != nil && s.Uin != 0 && s.Sid != "" && s.Hosts.Web != "" }

// checkKey is the cursor synccheck uses: the SyncCheckKey when the server gave one, else
// the SyncKey (official getFormateSyncCheckKey, §7.2).
func (s *Session) checkKey() SyncKey {
	if s.SyncCheckKey != nil && s.SyncCheckKey.Valid() {
		return *s.SyncCheckKey
	}
	return s.SyncKey
}
