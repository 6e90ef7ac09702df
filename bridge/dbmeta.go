package bridge

import (
	"time"

	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/status"

	"wxbridge/protoclient"
)

func (wc *WeChatConnector) GetDBMetaTypes() database.MetaTypes {
	return database.MetaTypes{
		Message:   func() any { return &MessageMetadata{} },
		Portal:    func() any { return &PortalMetadata{} },
		UserLogin: func() any { return &UserLoginMetadata{} },
	}
}

// UserLoginMetadata holds the WeChat session: credentials, hosts, cookies with their
// domains and both sync cursors. It is saved after each batch is stored, so a restart
// resumes where the bridge was without a QR scan and without replays.
type UserLoginMetadata struct {
	Session *protoclient.Session `json:"session,omitempty"`
	// LoggedInAt is when the current session was made by a QR or push login; how soon
	// WeChat ends a session after it tells a refusal from an expiry (relogin.go).
	LoggedInAt time.Time `json:"logged_in_at,omitzero"`
	// Ended is set when WeChat ended the session: a restart then does not try it again.
	Ended *EndedSession `json:"ended,omitempty"`
	// Refusals are the times WeChat refused a session of this account, the last 24 h.
	Refusals []time.Time `json:"refusals,omitempty"`
	// LastAutoRelogin is when the bridge last asked the phone for a push login by itself.
	LastAutoRelogin time.Time `json:"last_auto_relogin,omitzero"`
}

// EndedSession is how the last session ended, for the bridge state after a restart.
type EndedSession struct {
	At      time.Time                   `json:"at"`
	State   status.BridgeStateErrorCode `json:"state"`
	Retcode int                         `json:"retcode,omitempty"`
}

// CopyFrom takes the new session on a re-login of the same account; what WeChat did to
// the account's earlier sessions stays.
func (m *UserLoginMetadata) CopyFrom(other any) {
	if o, ok := other.(*UserLoginMetadata); ok && o.Session != nil {
		m.Session = o.Session
		m.LoggedInAt = o.LoggedInAt
		m.Ended = nil
	}
}

var _ database.MetaMerger = (*UserLoginMetadata)(nil)

// MessageMetadata keeps the LocalID/ClientMsgId our sends used: revoking needs it.
type MessageMetadata struct {
	ClientMsgID string `json:"client_msg_id,omitempty"`
}

// PortalMetadata remembers what was said about a room's identity.
type PortalMetadata struct {
	// DerivedIDNoticeSent: the user was told that WeChat gave no permanent id for this
	// chat, so this room may stand beside an older one of the same contact.
	DerivedIDNoticeSent bool `json:"derived_id_notice_sent,omitempty"`
	// FavouritePending: the chat was pinned on the phone when its room was made, and the
	// room is not tagged m.favourite yet (pinNewRoom). Kept in the database because the
	// room outlives a crash between its creation and the tag.
	FavouritePending bool `json:"favourite_pending,omitempty"`
}
