package bridge

import (
	"fmt"
	"slices"
	"strings"

	"wxbridge/protoclient"
)

// maxSearchResults bounds what a search returns; a query of one letter matches most of
// a contact list.
const maxSearchResults = 50

// friend is a person in the user's WeChat contact list: someone a DM can be started with.
type friend struct {
	userName protoclient.UserName // session UserName, to send to
	id       protoclient.WxID     // stable id, the ghost's
	contact  *protoclient.Contact
}

func (f friend) nickname() string { return f.contact.NickName }
func (f friend) remark() string   { return f.contact.RemarkName }

// label names a friend for people: remark (nickname), WeChat ID.
func (f friend) label() string {
	name := f.nickname()
	if r := f.remark(); r != "" && r != name {
		name = r + " (" + name + ")"
	}
	if name == "" {
		name = string(f.id)
	}
	return name + " — " + string(f.id)
}

// isFriend: a person in the contact list (ContactFlag CONTACT, §6.3), not a group, an
// official account or a special account (filehelper, weixin, fmessage…), and not the
// user.
func isFriend(ct *protoclient.Contact, self protoclient.UserName) bool {
	return ct != nil && ct.UserName != self &&
		strings.HasPrefix(string(ct.UserName), "@") && !ct.IsGroup() &&
		!ct.IsOfficialAccount() && ct.ContactFlag&1 != 0
}

// isFollowedAccount: an official account the user follows, which start-chat may open
// (a service account answers what is written to it).
func isFollowedAccount(ct *protoclient.Contact) bool {
	return ct != nil && ct.IsOfficialAccount() && ct.ContactFlag&1 != 0 && !isSpecialName(ct.UserName)
}

// friends lists the user's WeChat friends in the directory, sorted by what the user
// sees them as.
func (d *directory) friends() []friend {
	return d.contactsWhere(func(ct *protoclient.Contact) bool { return isFriend(ct, d.self) })
}

func (d *directory) contactsWhere(keep func(*protoclient.Contact) bool) []friend {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]friend, 0, len(d.contacts))
	for u, ct := range d.contacts {
		if !keep(ct) {
			continue
		}
		id, _ := d.stableIDLocked(u)
		if id == "" {
			continue
		}
		out = append(out, friend{userName: u, id: id, contact: ct})
	}
	slices.SortFunc(out, func(a, b friend) int {
		if c := strings.Compare(strings.ToLower(a.sortName()), strings.ToLower(b.sortName())); c != 0 {
			return c
		}
		return strings.Compare(string(a.id), string(b.id))
	})
	return out
}

func (f friend) sortName() string {
	if r := f.remark(); r != "" {
		return r
	}
	return f.nickname()
}

// errAmbiguous says which contacts share a name, so the user can pick one by id.
type errAmbiguous struct {
	query   string
	matches []friend
}

func (e *errAmbiguous) Error() string {
	labels := make([]string, len(e.matches))
	for i, m := range e.matches {
		labels[i] = m.label()
	}
	return fmt.Sprintf("%d WeChat contacts match %q: %s. Use the WeChat ID of the one you mean.",
		len(e.matches), e.query, strings.Join(labels, "; "))
}

// resolveFriend finds the one contact (or followed official account) an identifier names: its stable id (wxid, with or
// without "wechat:"), its WeChat ID (alias), its remark name or its nickname, each
// compared exactly but without regard to case, in that order. Nobody is nil; more than
// one contact with the same name is an *errAmbiguous — never a guess.
func (d *directory) resolveFriend(identifier string) (*friend, error) {
	q := strings.TrimSpace(identifier)
	q = strings.TrimSpace(strings.TrimPrefix(q, "wechat:"))
	if q == "" {
		return nil, nil
	}
	all := d.contactsWhere(func(ct *protoclient.Contact) bool { return isFriend(ct, d.self) || isFollowedAccount(ct) })
	tiers := []func(f friend) bool{
		func(f friend) bool { return strings.EqualFold(string(f.id), q) },
		func(f friend) bool { return f.contact.Alias != "" && strings.EqualFold(f.contact.Alias, q) },
		func(f friend) bool { return f.remark() != "" && strings.EqualFold(f.remark(), q) },
		func(f friend) bool { return f.nickname() != "" && strings.EqualFold(f.nickname(), q) },
	}
	for _, match := range tiers {
		var found []friend
		for _, f := range all {
			if match(f) {
				found = append(found, f)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return &found[0], nil
		default:
			return nil, &errAmbiguous{query: q, matches: found}
		}
	}
	// Special accounts that are normal chat targets are reachable by name, though not
	// listed as contacts.
	if strings.EqualFold(q, "filehelper") {
		d.mu.RLock()
		defer d.mu.RUnlock()
		ct := d.contacts["filehelper"]
		if ct == nil {
			ct = &protoclient.Contact{UserName: "filehelper", NickName: "File Transfer"}
		}
		return &friend{userName: "filehelper", id: "filehelper", contact: ct}, nil
	}
	return nil, nil
}

// searchFriends returns the friends whose nickname, remark name, WeChat ID or id
// contains the query, without regard to case.
func (d *directory) searchFriends(query string) []friend {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil
	}
	var out []friend
	for _, f := range d.friends() {
		for _, s := range []string{f.nickname(), f.remark(), f.contact.Alias, string(f.id)} {
			if s != "" && strings.Contains(strings.ToLower(s), q) {
				out = append(out, f)
				break
			}
		}
		if len(out) >= maxSearchResults {
			break
		}
	}
	return out
}
