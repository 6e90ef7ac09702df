package protoclient

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// System messages (MsgType 10002 revokes, 10000 XML variants)

// Revoke is the parsed `<sysmsg type="revokemsg">` of a MsgType 10002 message (§5.4.5).
type Revoke struct {
	Session    string // permanent id of the chat: wxid_… or <digits>@chatroom
	OldMsgID   string // legacy 32-bit id
	MsgID      string // MsgId of the revoked message; "0" means "self's last message in Session"
	ReplaceMsg string // display text, e.g. "xx" 撤回了一条消息
}

type xmlSysMsg struct {
	Type      string `xml:"type,attr"`
	RevokeMsg *struct {
		Session    string `xml:"session"`
		OldMsgID   string `xml:"oldmsgid"`
		MsgID      string `xml:"msgid"`
		ReplaceMsg string `xml:"replacemsg"`
	} `xml:"revokemsg"`
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseRevoke parses a revoke notice. It fails unless the content is a
// `<sysmsg type="revokemsg">` whose `<msgid>` is a decimal number.
func ParseRevoke(content string) (*Revoke, error) {
	var x xmlSysMsg
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("revoke: %w", err)
	}
	if root != "sysmsg" || x.RevokeMsg == nil {
		return nil, fmt.Errorf("revoke: %w: no <sysmsg><revokemsg> (root <%s>)", ErrMalformed, root)
	}
	r := &Revoke{
		Session:    trim(x.RevokeMsg.Session),
		OldMsgID:   trim(x.RevokeMsg.OldMsgID),
		MsgID:      trim(x.RevokeMsg.MsgID),
		ReplaceMsg: trim(x.RevokeMsg.ReplaceMsg),
	}
	if !isDigits(r.MsgID) {
		return nil, fmt.Errorf("revoke: %w: msgid %q is not a number", ErrMalformed, truncate(r.MsgID, 40))
	}
	return r, nil
}

// ParseSysMsgType returns the type attribute of a `<sysmsg>` content ("revokemsg",
// "pat", "sysmsgtemplate", …, §5.4.8), so a caller can route it; ok is false when the
// content is not a sysmsg (most MsgType 10000 contents are plain text).
func ParseSysMsgType(content string) (typ string, ok bool) {
	s := prepareXML(content)
	if !strings.HasPrefix(s, "<") {
		return "", false
	}
	d := newXMLDecoder(s)
	for {
		tok, err := d.Token()
		if err != nil {
			return "", false
		}
		if se, isStart := tok.(xml.StartElement); isStart {
			if se.Name.Local != "sysmsg" {
				return "", false
			}
			for _, a := range se.Attr {
				if a.Name.Local == "type" {
					return trim(a.Value), true
				}
			}
			return "", true
		}
	}
}
