package bridge

import (
	"maunium.net/go/mautrix/bridgev2/database"

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
}

// CopyFrom takes the new session on a re-login of the same account.
func (m *UserLoginMetadata) CopyFrom(other any) {
	if o, ok := other.(*UserLoginMetadata); ok && o.Session != nil {
		m.Session = o.Session
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
}
