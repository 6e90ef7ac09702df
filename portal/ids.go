package portal

import (
	"strconv"
	"strings"

	"maunium.net/go/mautrix/bridgev2/networkid"

	"wxbridge/protoclient"
)

// IDs are stable WeChat identities, never session UserNames (they change at every login,
// README.md, "How it works"): a person's wxid, a group's "<digits>@chatroom", a special
// account's fixed name (filehelper), or — where WeChat exposes none — a derived id with a
// prefix that cannot collide with those.

// MakeUserLoginID names a login by the account's Uin, which WeChat keeps across logins.
func MakeUserLoginID(uin int64) networkid.UserLoginID {
	return networkid.UserLoginID(strconv.FormatInt(uin, 10))
}

// ParseUserLoginID returns the Uin of a login ID.
func ParseUserLoginID(id networkid.UserLoginID) (int64, bool) {
	n, err := strconv.ParseInt(string(id), 10, 64)
	return n, err == nil && n != 0
}

// SelfUserID is the ghost ID of the logged-in account itself; its wxid is not always
// known, its Uin is.
func SelfUserID(uin int64) networkid.UserID {
	return networkid.UserID("uin" + strconv.FormatInt(uin, 10))
}

// MakeUserID turns a stable id into a ghost ID.
func MakeUserID(id protoclient.WxID) networkid.UserID { return networkid.UserID(id) }

// ParseUserID is the stable id of a ghost (MakeUserID made it from one).
func ParseUserID(id networkid.UserID) protoclient.WxID { return protoclient.WxID(id) }

// MakePortalKey: every portal belongs to one login, groups included, because WeChat
// exposes no group id that all members' sessions agree on being the same room.
func MakePortalKey(chat protoclient.WxID, login networkid.UserLoginID) networkid.PortalKey {
	return networkid.PortalKey{ID: networkid.PortalID(chat), Receiver: login}
}

// ParsePortalID is the stable chat id of a portal (MakePortalKey made it from one).
func ParsePortalID(id networkid.PortalID) protoclient.WxID { return protoclient.WxID(id) }

// IsGroupID reports whether a stable chat id is a group.
func IsGroupID(id protoclient.WxID) bool {
	return strings.HasSuffix(string(id), "@chatroom") || strings.HasPrefix(string(id), GroupFallbackPrefix)
}

// MakeMessageID uses the server's MsgId: unique on the server, and what the echo of our
// own sends carries, so a duplicate is caught by ID.
func MakeMessageID(msgID string) networkid.MessageID { return networkid.MessageID(msgID) }

// ParseMessageID returns the server MsgId of a message ID.
func ParseMessageID(id networkid.MessageID) string { return string(id) }

// Prefixes of derived ids, used where WeChat gives no permanent id for a contact, a
// group or a group member who is not a contact.
const (
	ContactFallbackPrefix = "wxc_"
	GroupFallbackPrefix   = "wxg_"
	MemberFallbackPrefix  = "wxm_"
)

// officialAccountsID is the portal of the room where every official account of a login
// writes (network.official_accounts: room). WeChat ids never contain a colon.
const officialAccountsID = "wxbridge:official_accounts"

// OfficialAccountsPortalKey is the key of a login's official accounts' room.
func OfficialAccountsPortalKey(login networkid.UserLoginID) networkid.PortalKey {
	return networkid.PortalKey{ID: officialAccountsID, Receiver: login}
}

// IsOfficialAccountsPortal reports whether a portal is an official accounts' room.
func IsOfficialAccountsPortal(id networkid.PortalID) bool { return id == officialAccountsID }
