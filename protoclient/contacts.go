package protoclient

import (
	"context"
	"strconv"
)

// maxContactPages stops a server that keeps answering a new Seq from looping us forever.
const maxContactPages = 100

// GetContacts fetches the whole contact list with webwxgetcontact, following Seq until
// it is 0 or repeats (§4.3). Groups come without members; use BatchGetContact for them.
func (c *Client) GetContacts(ctx context.Context) ([]Contact, error) {
	if err := c.requireLogin(); err != nil {
		return nil, err
	}
	var all []Contact
	seq := int64(0)
	for range maxContactPages {
		q := query{}
		q.Set("lang", "zh_CN")
		q.Set("pass_ticket", c.passTicket())
		q.Set("r", nowMillis())
		q.Set("seq", strconv.FormatInt(seq, 10))
		q.SetLiteralAt("skey", c.skey())
		var res GetContactResponse
		if err := c.getJSON(ctx, roleWeb, "webwxgetcontact", q, &res); err != nil {
			return nil, err
		}
		decodeNames(res.MemberList)
		all = append(all, res.MemberList...)
		next := int64(res.Seq)
		if next == 0 || next == seq {
			break
		}
		seq = next
	}
	return all, nil
}

// BatchGetContactSize is the batch size every client uses (§4.4).
const BatchGetContactSize = 50

// BatchGetContact fetches details (groups with MemberList and EncryChatRoomId) for the
// given items, 50 per request.
func (c *Client) BatchGetContact(ctx context.Context, items []BatchContactItem) ([]Contact, error) {
	if err := c.requireLogin(); err != nil {
		return nil, err
	}
	var out []Contact
	for start := 0; start < len(items); start += BatchGetContactSize {
		end := min(start+BatchGetContactSize, len(items))
		q := query{}
		q.Set("type", "ex")
		q.Set("r", nowMillis())
		q.Set("lang", "zh_CN")
		q.Set("pass_ticket", c.passTicket())
		var res BatchGetContactResponse
		if err := c.postJSON(ctx, roleWeb, "webwxbatchgetcontact", q, BatchGetContactRequest{
			BaseRequest: c.baseRequest(),
			Count:       end - start,
			List:        items[start:end],
		}, &res); err != nil {
			return out, err
		}
		decodeNames(res.ContactList)
		out = append(out, res.ContactList...)
	}
	return out, nil
}

// BatchGetUsers is BatchGetContact for plain UserNames (users or groups).
func (c *Client) BatchGetUsers(ctx context.Context, userNames ...UserName) ([]Contact, error) {
	items := make([]BatchContactItem, len(userNames))
	for i, n := range userNames {
		items[i] = BatchContactItem{UserName: n}
	}
	return c.BatchGetContact(ctx, items)
}

// decodeNames decodes the names of contacts as they arrive (emoji spans, entities,
// §5.4.4), once, so that no caller sees the wire form; every path that returns contacts
// calls it exactly once.
func decodeNames(list []Contact) {
	for i := range list {
		list[i].decodeNames()
	}
}

func (ct *Contact) decodeNames() {
	ct.NickName = DecodeName(ct.NickName)
	ct.RemarkName = DecodeName(ct.RemarkName)
	ct.DisplayName = DecodeName(ct.DisplayName)
	decodeMemberNames(ct.MemberList)
}

func decodeMemberNames(list []Member) {
	for j := range list {
		m := &list[j]
		m.NickName = DecodeName(m.NickName)
		m.DisplayName = DecodeName(m.DisplayName)
	}
}
