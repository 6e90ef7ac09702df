// What the scripted Matrix user saw: one logged event, and the predicates the waits and
// lookups take.

package harness

import (
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Seen is one event a scripted user received through /sync.
type Seen struct {
	Room    id.RoomID
	Section string // where the /sync answer had it: "join", "invite" or "leave"
	Evt     *event.Event
	At      time.Time // when the /sync answer carrying it returned
	Idx     int       // its position in the user's log
}

// Str is the content field key when it is a string, else "".
func (s *Seen) Str(key string) string {
	v, _ := s.Evt.Content.Raw[key].(string)
	return v
}

// Body is the content's body.
func (s *Seen) Body() string { return s.Str("body") }

// MsgType is the content's msgtype.
func (s *Seen) MsgType() string { return s.Str("msgtype") }

// RelatesTo is the content's m.relates_to, nil when there is none.
func (s *Seen) RelatesTo() map[string]any {
	rel, _ := s.Evt.Content.Raw["m.relates_to"].(map[string]any)
	return rel
}

// IsEdit reports whether the event replaces another one (m.replace).
func (s *Seen) IsEdit() bool { return s.RelatesTo()["rel_type"] == "m.replace" }

// IsMessage reports whether the event is an m.room.message, edits included.
func (s *Seen) IsMessage() bool { return s.Evt.Type == event.EventMessage }

// Membership is the membership of an m.room.member event, "" for other events.
func (s *Seen) Membership() string {
	if s.Evt.Type != event.StateMember {
		return ""
	}
	return s.Str("membership")
}

// IsInviteFor reports whether the event is user's invite, as the invite section of /sync
// has it.
func (s *Seen) IsInviteFor(user id.UserID) bool {
	return s.Section == "invite" && MemberEvent(user, "invite")(s)
}

// ReplyTo is m.relates_to.m.in_reply_to.event_id.
func (s *Seen) ReplyTo() id.EventID {
	r, _ := s.RelatesTo()["m.in_reply_to"].(map[string]any)
	v, _ := r["event_id"].(string)
	return id.EventID(v)
}

// Redacts is the event a redaction removes (top level in room v1–v10, in content in v11).
func (s *Seen) Redacts() id.EventID {
	if s.Evt.Redacts != "" {
		return s.Evt.Redacts
	}
	return id.EventID(s.Str("redacts"))
}

// Info is the content's info object (media), nil when there is none.
func (s *Seen) Info() map[string]any {
	m, _ := s.Evt.Content.Raw["info"].(map[string]any)
	return m
}

// MentionedUsers is m.mentions.user_ids.
func (s *Seen) MentionedUsers() []id.UserID {
	m, _ := s.Evt.Content.Raw["m.mentions"].(map[string]any)
	l, _ := m["user_ids"].([]any)
	var out []id.UserID
	for _, v := range l {
		if u, ok := v.(string); ok {
			out = append(out, id.UserID(u))
		}
	}
	return out
}

// String is one line for test output: position, arrival, room, section, type, sender and
// what matters of the content.
func (s *Seen) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %s [%s] %s from %s", s.Idx, s.At.Format("15:04:05.000"), s.Room, s.Section, s.Evt.Type.Type, s.Evt.Sender)
	if s.Evt.StateKey != nil {
		fmt.Fprintf(&b, " state_key=%q", *s.Evt.StateKey)
	}
	switch {
	case s.IsMessage():
		fmt.Fprintf(&b, " %s %q", s.MsgType(), s.Body())
		if s.IsEdit() {
			b.WriteString(" (edit)")
		}
	case s.Evt.Type == event.StateMember:
		fmt.Fprintf(&b, " membership=%s displayname=%q", s.Membership(), s.Str("displayname"))
	case s.Evt.Type == event.StateRoomName:
		fmt.Fprintf(&b, " name=%q", s.Str("name"))
	}
	return b.String()
}

// Predicates on logged events, for Find, All and the waits.

// And holds when every one of ms holds (and when there are none).
func And(ms ...func(*Seen) bool) func(*Seen) bool {
	return func(s *Seen) bool {
		for _, m := range ms {
			if !m(s) {
				return false
			}
		}
		return true
	}
}

// InRoom holds for the events of room.
func InRoom(room id.RoomID) func(*Seen) bool {
	return func(s *Seen) bool { return s.Room == room }
}

// FromSender holds for the events sender sent.
func FromSender(sender id.UserID) func(*Seen) bool {
	return func(s *Seen) bool { return s.Evt.Sender == sender }
}

// MessageWithBody holds for a message (not an edit) whose body is body.
func MessageWithBody(body string) func(*Seen) bool {
	return func(s *Seen) bool { return s.IsMessage() && !s.IsEdit() && s.Body() == body }
}

// MemberEvent holds for user's m.room.member event with that membership.
func MemberEvent(user id.UserID, membership string) func(*Seen) bool {
	return func(s *Seen) bool {
		return s.Evt.Type == event.StateMember && s.Evt.StateKey != nil &&
			*s.Evt.StateKey == string(user) && s.Membership() == membership
	}
}
