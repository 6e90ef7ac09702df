package protoclient

import (
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// System messages (MsgType 10002 revokes, 10000 XML variants)

// revokeMsg is the `<revokemsg>` of a MsgType 10002 message (§5.4.5).
type revokeMsg struct {
	Session    xmlStr `xml:"session"`    // permanent id of the chat: wxid_… or <digits>@chatroom
	OldMsgID   xmlStr `xml:"oldmsgid"`   // legacy 32-bit id
	MsgID      xmlStr `xml:"msgid"`      // MsgId of the revoked message; "0" means "self's last message in Session"
	ReplaceMsg xmlStr `xml:"replacemsg"` // display text, e.g. "xx" 撤回了一条消息
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

// parseRevoke parses a revoke notice. It fails unless the content is a
// `<sysmsg type="revokemsg">` whose `<msgid>` is a decimal number.
func parseRevoke(content string) (*revokeMsg, error) {
	var x struct {
		RevokeMsg *revokeMsg `xml:"revokemsg"`
	}
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("revoke: %w", err)
	}
	if root != "sysmsg" || x.RevokeMsg == nil {
		return nil, fmt.Errorf("revoke: %w: no <sysmsg><revokemsg> (root <%s>)", ErrMalformed, root)
	}
	if r := x.RevokeMsg; !isDigits(string(r.MsgID)) {
		return nil, fmt.Errorf("revoke: %w: msgid %q is not a number", ErrMalformed, truncate(string(r.MsgID), 40))
	}
	return x.RevokeMsg, nil
}

// parseSysMsgType returns the type attribute of a `<sysmsg>` content ("revokemsg",
// "pat", "sysmsgtemplate", …, §5.4.8), so a caller can route it; ok is false when the
// content is not a sysmsg (most MsgType 10000 contents are plain text).
func parseSysMsgType(content string) (typ string, ok bool) {
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

// rePlaceholder matches the placeholders of a system template: $name$ (sysmsgtemplate)
// and ${name} (pat).
var rePlaceholder = regexp.MustCompile(`\$\{([^{}$]{1,64})\}|\$([A-Za-z0-9_]{1,64})\$`)

// renderSysTemplate fills the first <template> of a sysmsg with the nicknames of its
// <link name="…"> member lists; placeholders without names become "someone". "" when
// there is no template. WeChat's [smiley] codes are left for the caller.
func renderSysTemplate(body string) string {
	d := xml.NewDecoder(strings.NewReader(strings.TrimSpace(unescapeXML(body))))
	// Not strict, as phones' XML is not; but no HTML auto-closing either: <link> is a
	// void element in HTML and a container here.
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }

	var (
		template    string
		haveTmpl    bool
		names       = map[string][]string{}
		stack       []string
		currentLink string
		text        strings.Builder
	)
	// A bound on tokens: a system message is small, and the loop must end on anything.
	for range 100000 {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			text.Reset()
			if t.Name.Local == "link" {
				currentLink = ""
				for _, a := range t.Attr {
					if a.Name.Local == "name" {
						currentLink = a.Value
					}
				}
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if n := len(stack); n > 0 {
				stack = stack[:n-1]
			}
			switch t.Name.Local {
			case "template":
				if !haveTmpl {
					template, haveTmpl = text.String(), true
				}
			case "nickname":
				if currentLink != "" {
					if n := strings.TrimSpace(text.String()); n != "" {
						names[currentLink] = append(names[currentLink], DecodeName(n))
					}
				}
			case "link":
				currentLink = ""
			}
			text.Reset()
		}
	}
	template = strings.TrimSpace(template)
	if !haveTmpl || template == "" {
		return ""
	}
	out := rePlaceholder.ReplaceAllStringFunc(template, func(ph string) string {
		m := rePlaceholder.FindStringSubmatch(ph)
		key := m[1] + m[2]
		if list := names[key]; len(list) > 0 {
			return strings.Join(list, "、")
		}
		return "someone"
	})
	return out
}
