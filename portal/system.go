package portal

import (
	"encoding/xml"
	"io"
	"regexp"
	"strings"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// System texts (MsgType 10000, §5.4.8) are mostly plain text: shown as they are. Newer
// phones send some as `<sysmsg>` XML (pats, "sysmsgtemplate" group notices); those are
// rendered from their template, and red-packet texts get a word on what arrived.

func (c *converter) system() *event.MessageEventContent {
	if typ, ok := protoclient.ParseSysMsgType(c.body); ok {
		return sysMsgNotice(typ, c.body)
	}
	text := strings.TrimSpace(protoclient.DecodeText(c.body))
	if text == "" {
		return cannotShow(protoclient.MsgSys, "the system message was empty")
	}
	if isRedPacketText(text) {
		return notice("[Red packet — open WeChat on your phone to see it] " + text)
	}
	return notice(ReplaceSmileys(text))
}

func isRedPacketText(text string) bool {
	return strings.Contains(text, "红包") || strings.Contains(strings.ToLower(text), "red packet")
}

// sysMsgNotice renders an XML system message.
func sysMsgNotice(typ, body string) *event.MessageEventContent {
	if typ == "revokemsg" {
		if r, err := protoclient.ParseRevoke(body); err == nil && r.ReplaceMsg != "" {
			return notice(protoclient.DecodeText(r.ReplaceMsg))
		}
	}
	if text := renderSysTemplate(body); text != "" {
		return notice(text)
	}
	what := "System message"
	if typ == "pat" {
		what = "Pat (拍一拍)"
	}
	return phoneNotice(what, "")
}

// rePlaceholder matches the placeholders of a system template: $name$ (sysmsgtemplate)
// and ${name} (pat).
var rePlaceholder = regexp.MustCompile(`\$\{([^{}$]{1,64})\}|\$([A-Za-z0-9_]{1,64})\$`)

// renderSysTemplate fills the first <template> of a sysmsg with the nicknames of its
// <link name="…"> member lists; placeholders without names become "someone". "" when
// there is no template.
func renderSysTemplate(body string) string {
	d := xml.NewDecoder(strings.NewReader(strings.TrimSpace(protoclient.UnescapeXML(body))))
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
						names[currentLink] = append(names[currentLink], protoclient.DecodeName(n))
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
	return ReplaceSmileys(out)
}
