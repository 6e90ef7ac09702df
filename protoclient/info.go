package protoclient

// MessageInfo is where a message belongs and who sent it (§5.4.2), decoded once from
// the wire fields, so that no caller splits the group sender prefix itself.
type MessageInfo struct {
	// Chat is the chat's UserName: the group, the contact, or for what the user sent
	// (from the phone, or the client's own echo) the recipient.
	Chat UserName
	// Sender is who wrote it: the contact, the group member of the content's
	// "@member:<br/>" prefix, or the user; "" for a group's system text.
	Sender UserName
	// FromMe: the user sent it, from this client or from the phone.
	FromMe bool
	// Body is the content without the group sender prefix.
	Body string
}

// Info decodes a message's MessageInfo; self is the session's own UserName.
func (m *Message) Info(self UserName) MessageInfo {
	switch {
	case m.FromUserName == self || m.FromUserName == "":
		return MessageInfo{Chat: m.ToUserName, Sender: self, FromMe: true, Body: m.Content}
	case IsGroup(m.FromUserName):
		s, rest, ok := SplitGroupSender(m.Content)
		if !ok {
			// Group system texts carry no sender.
			return MessageInfo{Chat: m.FromUserName, Body: m.Content}
		}
		sender := UserName(s)
		return MessageInfo{Chat: m.FromUserName, Sender: sender, FromMe: sender == self, Body: rest}
	default:
		return MessageInfo{Chat: m.FromUserName, Sender: m.FromUserName, Body: m.Content}
	}
}
