package protoclient

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// EncodeContent turns plain text into the Content the server stores and delivers for a
// typed text message (§5.4.1, §5.4.4): `&`, `<` and `>` become entities (`"` does not —
// the real server leaves it), "\n" becomes `<br/>`, and each emoji becomes one
// `<span class="emoji emojiXXXX"></span>` (see emoji.go for what counts as an emoji).
// U+FE0F is dropped. Invalid UTF-8 is copied through byte by byte.
//
// Clients never send this form — webwxsendmsg takes plain text — but the server double
// renders what it delivers with it, and tests compare against it.
func EncodeContent(plain string) string {
	var b strings.Builder
	b.Grow(len(plain) + len(plain)/8)
	for i := 0; i < len(plain); {
		if cps, n := nextEmoji(plain[i:]); n > 0 {
			emojiSpan(&b, cps)
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(plain[i:])
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\n':
			b.WriteString("<br/>")
		case vs16:
		default:
			b.WriteString(plain[i : i+size])
		}
		i += size
	}
	return b.String()
}

// reEmojiSpan matches an emoji span, including the variant without the final `>` that
// the server sometimes sends (§5.4.4).
var reEmojiSpan = regexp.MustCompile(`<span class="emoji emoji([0-9a-fA-F]{1,10})"></span>?`)

// reBr matches the line breaks of content; the server writes `<br/>`, the official web
// app's own quote text `<br>`.
var reBr = regexp.MustCompile(`<br\s*/?>`)

func replaceEmojiSpans(s string) string {
	if !strings.Contains(s, `<span class="emoji`) {
		return s
	}
	return reEmojiSpan.ReplaceAllStringFunc(s, func(span string) string {
		m := reEmojiSpan.FindStringSubmatch(span)
		if text, ok := emojiFromHex(m[1]); ok {
			return text
		}
		return span
	})
}

// DecodeText turns the Content of a text message (after SplitGroupSender) into plain
// text for display: line breaks, emoji spans (with the server's cat-face mix-ups fixed),
// then entities. The order matters: entities come last so that user-typed markup, which
// arrives escaped, stays text. Spans with codes of unknown shape are left as they are
// rather than dropped.
func DecodeText(content string) string {
	s := content
	if strings.Contains(s, "<br") {
		s = reBr.ReplaceAllString(s, "\n")
	}
	s = replaceEmojiSpans(s)
	return html.UnescapeString(s)
}

// DecodeName decodes NickName, RemarkName and DisplayName: emoji spans and entities
// (§5.4.4). Names carry no line breaks worth keeping, so `<br/>` is not special here.
func DecodeName(s string) string {
	return html.UnescapeString(replaceEmojiSpans(s))
}

// reGroupSender is the official sender prefix regex (§5.4.2). The second branch admits
// wxid-style names.
var reGroupSender = regexp.MustCompile(`^(@[a-zA-Z0-9]+|[a-zA-Z0-9_-]+):<br/>`)

// SplitGroupSender splits `@sender:<br/>rest` as found in group messages from other
// members. Only the first prefix is taken: later `:<br/>`s (a location label, a quoted
// text) stay in rest. ok is false, and rest the whole content, when there is no prefix.
//
// The prefix regex also matches plain text like "note:<br/>…", so call it only for
// messages whose FromUserName is a group and whose sender is not self.
func SplitGroupSender(content string) (sender, rest string, ok bool) {
	loc := reGroupSender.FindStringSubmatchIndex(content)
	if loc == nil {
		return "", content, false
	}
	return content[loc[2]:loc[3]], content[loc[1]:], true
}

// unescapeXML turns the Content of an XML message (image, voice, app, revoke, card,
// status notify…) into XML text. What the server added at the outer level is undone
// first: the `<br/>`s of the pretty-printed form become "\n" (the official client removes
// them; a newline keeps line breaks inside titles and greetings, and is whitespace
// between elements), and emoji spans become the emoji (left as markup they would be
// taken for elements and vanish from the text). Then entities are decoded. A content
// that is still escaped after that (`&amp;lt;msg&amp;gt;`, seen when a message is
// forwarded) is decoded once more. It is not decoded twice otherwise, because entities
// inside attribute values (`content="&amp;quot;x&amp;quot;"`) must reach the XML parser
// once-escaped.
func unescapeXML(content string) string {
	s := unescapeOuter(content)
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "&lt;") {
		s = unescapeOuter(s)
	}
	return s
}

func unescapeOuter(s string) string {
	return html.UnescapeString(replaceEmojiSpans(strings.ReplaceAll(s, "<br/>", "\n")))
}

// MentionsName reports whether decoded text mentions name: `@name` followed by U+2005
// (mobile), an ASCII space (PC/Mac/web) or the end of the text (§5.4.3). name is a
// decoded display name (group DisplayName, else NickName). An empty name never matches.
func MentionsName(decodedText, name string) bool {
	if name == "" {
		return false
	}
	needle := "@" + name
	for from := 0; ; {
		i := strings.Index(decodedText[from:], needle)
		if i < 0 {
			return false
		}
		end := from + i + len(needle)
		if end == len(decodedText) {
			return true
		}
		if r, _ := utf8.DecodeRuneInString(decodedText[end:]); r == '\u2005' || r == ' ' {
			return true
		}
		from += i + 1
	}
}
