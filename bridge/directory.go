package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

// directory is one login's view of WeChat's people and groups: contacts by session
// UserName, and the map from those session-scoped names to stable ids. Stable ids come
// from what the protocol proves (the MsgType 51 op-4 list, stored pairs of this session);
// where nothing proves one, a derived id with its own prefix is used, so a contact is
// never merged with somebody else's id.
type directory struct {
	mu sync.RWMutex
	// scope is the login id: derived group ids are per account, since two accounts'
	// groups of the same name are not the same group.
	scope string
	self  protoclient.UserName
	// selfHeadImg is the account's own avatar (webwxinit's User.HeadImgUrl).
	selfHeadImg string
	selfWxid    protoclient.WxID
	contacts    map[protoclient.UserName]*protoclient.Contact // session UserName → contact or group
	stable      map[protoclient.UserName]protoclient.WxID     // session UserName → proven stable id
	byStable    map[protoclient.WxID]protoclient.UserName     // stable id → session UserName
}

func newDirectory(scope string) *directory {
	return &directory{scope: scope, contacts: map[protoclient.UserName]*protoclient.Contact{}, stable: map[protoclient.UserName]protoclient.WxID{}, byStable: map[protoclient.WxID]protoclient.UserName{}}
}

// reset forgets the session: after a new login every UserName is different.
func (d *directory) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.self, d.selfWxid = "", ""
	d.contacts = map[protoclient.UserName]*protoclient.Contact{}
	d.stable = map[protoclient.UserName]protoclient.WxID{}
	d.byStable = map[protoclient.WxID]protoclient.UserName{}
}

func (d *directory) setSelf(userName protoclient.UserName, headImgURL string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.self, d.selfHeadImg = userName, headImgURL
	if id, ok := d.stable[userName]; ok {
		d.selfWxid = id
	}
}

func (d *directory) selfAvatarURL() string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.selfHeadImg
}

func (d *directory) selfStable() protoclient.WxID {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.selfWxid
}

// learn records proven pairs (session UserName → stable id).
func (d *directory) learn(pairs map[protoclient.UserName]protoclient.WxID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for u, id := range pairs {
		if u == "" || id == "" {
			continue
		}
		if old, ok := d.stable[u]; ok && old != id {
			delete(d.byStable, old)
		}
		d.stable[u] = id
		d.byStable[id] = u
		if u == d.self {
			d.selfWxid = id
		}
	}
}

// knowsIdentities reports whether any permanent id of this session is known.
func (d *directory) knowsIdentities() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for u := range d.stable {
		if strings.HasPrefix(string(u), "@") {
			return true
		}
	}
	return false
}

func (d *directory) addContacts(cs []protoclient.Contact) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range cs {
		c := cs[i]
		if c.UserName == "" {
			continue
		}
		// ModContactList entries of groups may come without members; keep what we had.
		if old, ok := d.contacts[c.UserName]; ok && len(c.MemberList) == 0 && len(old.MemberList) > 0 {
			c.MemberList = old.MemberList
		}
		d.contacts[c.UserName] = &c
		if _, ok := d.stable[c.UserName]; !ok && isSpecialName(c.UserName) {
			// A special account's fixed name is its id.
			d.stable[c.UserName] = protoclient.WxID(c.UserName)
			d.byStable[protoclient.WxID(c.UserName)] = c.UserName
		}
	}
}

func (d *directory) removeContact(userName protoclient.UserName) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.contacts, userName)
}

// isSpecialName: fixed names such as filehelper or weixin are already permanent.
func isSpecialName(userName protoclient.UserName) bool {
	return userName != "" && !strings.HasPrefix(string(userName), "@")
}

func (d *directory) contact(userName protoclient.UserName) *protoclient.Contact {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.contacts[userName]
}

// stableID returns the id of a chat or contact by session UserName, and whether WeChat
// proved it. Unknown names without a contact get "" (nothing to derive from).
func (d *directory) stableID(userName protoclient.UserName) (protoclient.WxID, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.stableIDLocked(userName)
}

func (d *directory) stableIDLocked(userName protoclient.UserName) (protoclient.WxID, bool) {
	if id, ok := d.stable[userName]; ok {
		return id, true
	}
	if isSpecialName(userName) {
		// A special account's fixed name is its id (filehelper, weixin, …).
		return protoclient.WxID(userName), true
	}
	c := d.contacts[userName]
	if c == nil {
		return "", false
	}
	if protoclient.IsGroup(userName) {
		return protoclient.WxID(portal.GroupFallbackPrefix + shortHash(d.scope, c.NickName)), false
	}
	return protoclient.WxID(portal.ContactFallbackPrefix + shortHash(c.NickName, strconv.Itoa(c.Sex), c.Province, c.City, c.Alias)), false
}

// memberID is the stable id of a group member: proven when the member is also a
// contact, derived from the group and the member's own nickname otherwise.
func (d *directory) memberID(group, member protoclient.UserName) protoclient.WxID {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if id, ok := d.stable[member]; ok {
		return id
	}
	gid, _ := d.stableIDLocked(group)
	nick := ""
	if g := d.contacts[group]; g != nil {
		for _, m := range g.MemberList {
			if m.UserName == member {
				nick = m.NickName
				break
			}
		}
	}
	if nick == "" {
		if c := d.contacts[member]; c != nil {
			nick = c.NickName
		}
	}
	if nick == "" {
		// Nothing to tell this member apart by but the session name: a ghost for this
		// session only, better than a ghost shared with someone else.
		nick = string(member)
	}
	return protoclient.WxID(portal.MemberFallbackPrefix + shortHash(string(gid), nick))
}

// groupMember finds a member entry of a group.
func (d *directory) groupMember(group, member protoclient.UserName) (protoclient.Member, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if g := d.contacts[group]; g != nil {
		for _, m := range g.MemberList {
			if m.UserName == member {
				return m, true
			}
		}
	}
	return protoclient.Member{}, false
}

// userName returns the current session UserName for a stable id (to send to it).
func (d *directory) userName(stableID protoclient.WxID) protoclient.UserName {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if u, ok := d.byStable[stableID]; ok {
		return u
	}
	for u := range d.contacts {
		if id, _ := d.stableIDLocked(u); id == stableID {
			return u
		}
	}
	// Special accounts (filehelper) need not be in the contact list; their name is
	// their id. wxids and derived ids are never session names.
	if s := protoclient.UserName(stableID); isSpecialName(s) && !strings.Contains(string(s), "@") && !strings.HasPrefix(string(s), "wx") {
		return s
	}
	return ""
}

// byStableID finds the contact behind a stable id, or nil.
func (d *directory) byStableID(stableID protoclient.WxID) *protoclient.Contact {
	u := d.userName(stableID)
	if u == "" {
		return nil
	}
	return d.contact(u)
}

// memberByID finds a group member behind a derived member id (for its name).
func (d *directory) memberByID(memberID protoclient.WxID) (protoclient.Member, bool) {
	d.mu.RLock()
	groups := make([]protoclient.UserName, 0)
	for u := range d.contacts {
		if protoclient.IsGroup(u) {
			groups = append(groups, u)
		}
	}
	d.mu.RUnlock()
	for _, g := range groups {
		c := d.contact(g)
		if c == nil { // removed meanwhile (DelContactList)
			continue
		}
		for _, m := range c.MemberList {
			if d.memberID(g, m.UserName) == memberID {
				return m, true
			}
		}
	}
	return protoclient.Member{}, false
}

func shortHash(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}
