package protoclient

import (
	"regexp"
	"strings"
)

// Quote-replies have no structure on the web protocol (§5.4.6): a phone's quote arrives
// as text `「Name：quoted」<br/>- - - - - - - - - - - - - - -<br/>reply`, and a client
// that wants to quote sends that text itself.

// QuoteSeparator is the line between the quoted part and the reply: 15 "-" separated by
// spaces, as phones write it.
const QuoteSeparator = "- - - - - - - - - - - - - - -"

// Quote is a parsed quote-reply.
type Quote struct {
	Name   string // display name of the quoted message's sender
	Quoted string // the quoted text (as the phone abbreviated it)
	Reply  string // what the sender wrote
}

// reQuote matches decoded text. The name ends at the first colon — full-width as phones
// write it, or ASCII followed by an optional space as in the official web app's own quote
// text — because names rarely hold colons and quoted texts often do. The quoted part ends at the first separator
// line. The separator is tolerated with another number of dashes and as the em-dash rule
// of the official web app.
var reQuote = regexp.MustCompile(`(?s)^「(.*?)(?:：|: ?)(.*?)」\n(?:-(?: -){4,}|—{3,})\n(.*)$`)

// parseQuote recognises a quote-reply in decoded text (DecodeText output); the
// undecoded `<br/>` form is accepted too. ok is false for anything else.
func parseQuote(text string) (Quote, bool) {
	if strings.Contains(text, "」<br") {
		text = DecodeText(text)
	}
	m := reQuote.FindStringSubmatch(text)
	if m == nil {
		return Quote{}, false
	}
	return Quote{Name: m[1], Quoted: m[2], Reply: m[3]}, true
}

// FormatQuote returns the plain text to send for a reply quoting quoted by name, in the
// phones' format; the server turns its "\n"s into `<br/>`.
func FormatQuote(name, quoted, reply string) string {
	return "「" + name + "：" + quoted + "」\n" + QuoteSeparator + "\n" + reply
}
