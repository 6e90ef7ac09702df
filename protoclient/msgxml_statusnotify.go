package protoclient

import (
	"fmt"
	"strconv"
	"strings"
)

// Status notify (MsgType 51, §5.4.7)

// unreadChat is an entry of the `<unreadchatlist>` of a status-notify op.
type unreadChat struct {
	UserName     string
	LastReadTime int64
}

// statusNotifyOp is the parsed `<msg><op id='N'>` content of a MsgType 51 message.
type statusNotifyOp struct {
	ID int
	// UserNames is the comma-split `<username>` list: permanent ids (wxid_…,
	// …@chatroom, filehelper) in the order of StatusNotifyUserName. Positions are kept,
	// empty entries included, except a trailing empty one from a final comma.
	UserNames  []string
	UnreadChat []unreadChat
}

// splitList splits a comma-joined list, trimming spaces and a final empty entry.
func splitList(s string) []string {
	s = trim(s)
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = trim(parts[i])
	}
	// The server ends the list with a comma; more trailing commas name nobody either.
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parseStatusNotifyOp parses the content of a MsgType 51 message. It fails when there
// is no `<msg><op>` element or its id is not a number; the empty Content of most
// codes is an error too, which callers of codes other than 4 can ignore.
func parseStatusNotifyOp(content string) (*statusNotifyOp, error) {
	var x struct {
		Op *struct {
			ID       string `xml:"id,attr"`
			UserName string `xml:"username"`
			Unread   []struct {
				UserName     xmlStr   `xml:"username"`
				LastReadTime xmlInt64 `xml:"lastreadtime"`
			} `xml:"unreadchatlist>chat"`
		} `xml:"op"`
	}
	if err := checkRoot(content, &x, "status notify", "<msg><op>", func() bool { return x.Op != nil }); err != nil {
		return nil, err
	}
	id, err := strconv.Atoi(trim(x.Op.ID))
	if err != nil {
		return nil, fmt.Errorf("status notify: %w: op id %q", ErrMalformed, truncate(x.Op.ID, 20))
	}
	op := &statusNotifyOp{ID: id, UserNames: splitList(x.Op.UserName)}
	for _, c := range x.Op.Unread {
		op.UnreadChat = append(op.UnreadChat, unreadChat{UserName: string(c.UserName), LastReadTime: int64(c.LastReadTime)})
	}
	return op, nil
}

// PairStatusNotify maps each session UserName of a code-4 (SYNC_CONV) status notify to
// the permanent id at the same position in the content's `<username>` list — the one
// place the web protocol reveals wxid_…/…@chatroom ids for ordinary chats (§6.4). The
// two lists must have the same length: when they do not, the positions cannot be
// trusted and an error is returned rather than a map that could put a contact's
// messages into someone else's room. Positions where either side is empty are skipped.
func PairStatusNotify(msg Message) (map[UserName]WxID, error) {
	if msg.MsgType != MsgStatusNotify {
		return nil, fmt.Errorf("status notify: message type %d is not %d", msg.MsgType, MsgStatusNotify)
	}
	op, err := parseStatusNotifyOp(msg.Content)
	if err != nil {
		return nil, err
	}
	sessions := splitList(msg.StatusNotifyUserName)
	if len(sessions) != len(op.UserNames) {
		return nil, fmt.Errorf("status notify: %w: %d session names but %d permanent ids",
			ErrMalformed, len(sessions), len(op.UserNames))
	}
	out := make(map[UserName]WxID, len(sessions))
	for i, name := range sessions {
		s, id := UserName(name), WxID(op.UserNames[i])
		if s == "" || id == "" {
			continue
		}
		if prev, dup := out[s]; dup && prev != id {
			return nil, fmt.Errorf("status notify: %w: %s paired with both %s and %s",
				ErrMalformed, s, prev, id)
		}
		out[s] = id
	}
	return out, nil
}
