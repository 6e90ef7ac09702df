package portal

import (
	"html"
	"sort"
	"strings"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient"
)

// rich builds a message body and, when some markup is needed (pills, quote blocks,
// links), its HTML twin. Everything written as text is escaped once here, so no caller
// can forget it.
type rich struct {
	plain    strings.Builder
	html     strings.Builder
	needHTML bool
	mentions event.Mentions
}

// text appends plain text: as is to the body, escaped (line breaks as <br/>) to the HTML.
func (r *rich) text(s string) {
	r.plain.WriteString(s)
	r.html.WriteString(escapeHTML(s))
}

// markup appends text whose HTML form differs from its plain form.
func (r *rich) markup(plain, htmlForm string) {
	r.plain.WriteString(plain)
	r.html.WriteString(htmlForm)
	r.needHTML = true
}

func escapeHTML(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "\n", "<br/>")
}

// content returns the built message. Mentions are always set, empty when nobody is
// mentioned: with m.mentions present, clients do not fall back to highlighting on
// display names that merely appear in the text.
func (r *rich) content(msgType event.MessageType) *event.MessageEventContent {
	c := &event.MessageEventContent{MsgType: msgType, Body: r.plain.String()}
	if r.needHTML {
		c.Format = event.FormatHTML
		c.FormattedBody = r.html.String()
	}
	m := r.mentions
	c.Mentions = &m
	return c
}

// pillHTML is a Matrix user pill.
func pillHTML(mxid id.UserID, name string) string {
	return `<a href="` + html.EscapeString(mxid.URI().MatrixToURL()) + `">` + html.EscapeString(name) + `</a>`
}

// mentionSpan is an `@name` in decoded text that names a known member.
type mentionSpan struct {
	start, end int // byte offsets of "@name" in the text
	member     Member
}

// findMentions finds the `@DisplayName` mentions of members in decoded text. The rule is
// protoclient.MentionsName's (§5.4.3): the name is followed by U+2005, a space or the
// end of the text. Members it says are not mentioned anywhere are not looked for;
// longer names are tried first at each '@', so "@Bob Smith" is Bob Smith and not Bob.
// Members without a Matrix user cannot be pills and are skipped. The caller checks for an
// '@' first (writeWeChatText), so that no member list is built for text without one.
func findMentions(text string, members []Member) []mentionSpan {
	var candidates []Member
	for _, m := range members {
		if m.MXID != "" && protoclient.MentionsName(text, m.DisplayName) {
			candidates = append(candidates, m)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		return len(candidates[i].DisplayName) > len(candidates[j].DisplayName)
	})
	var spans []mentionSpan
	for i := 0; i < len(text); {
		at := strings.IndexByte(text[i:], '@')
		if at < 0 {
			break
		}
		at += i
		i = at + 1
		for _, m := range candidates {
			if !strings.HasPrefix(text[at+1:], m.DisplayName) {
				continue
			}
			end := at + 1 + len(m.DisplayName)
			if end < len(text) {
				if r, _ := utf8.DecodeRuneInString(text[end:]); r != '\u2005' && r != ' ' {
					continue
				}
			}
			spans = append(spans, mentionSpan{start: at, end: end, member: m})
			i = end
			break
		}
	}
	return spans
}

// writeWeChatText appends decoded WeChat text: known members' mentions become pills
// (and go into m.mentions), and WeChat faces become emoji everywhere but inside the
// names, which are shown as WeChat shows them. members is asked only when the text has an
// '@': building a group's member list was ~1.5 % of the bridge's CPU per message.
func (r *rich) writeWeChatText(text string, members func() []Member) {
	var spans []mentionSpan
	if strings.Contains(text, "@") {
		spans = findMentions(text, members())
	}
	last := 0
	for _, s := range spans {
		r.text(ReplaceSmileys(text[last:s.start]))
		r.markup(text[s.start:s.end], pillHTML(s.member.MXID, s.member.DisplayName))
		r.mentions.Add(s.member.MXID)
		last = s.end
	}
	r.text(ReplaceSmileys(text[last:]))
}

// writeQuoteBlock appends a quote of name's text as Matrix clients show a quote: `> `
// lines in the body, a <blockquote> in the HTML, then a blank line before the reply.
// Mentions inside a quote do not become pills: quoting someone's mention must not
// ping that person again.
func (r *rich) writeQuoteBlock(name, quoted string) {
	quoted = ReplaceSmileys(quoted)
	var plain strings.Builder
	for i, line := range strings.Split(name+": "+quoted, "\n") {
		if i > 0 {
			plain.WriteByte('\n')
		}
		plain.WriteString("> " + line)
	}
	plain.WriteString("\n\n")
	r.markup(plain.String(), "<blockquote><b>"+escapeHTML(name)+"</b>: "+escapeHTML(quoted)+"</blockquote>")
}
