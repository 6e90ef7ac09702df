package protoclient

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Parsers for the XML carried in message Content (§5.2, §5.4). The XML comes from
// phones of every version, is escaped once or twice, pretty-printed with `<br/>` and
// tabs, quotes attributes with ' or ", and sometimes declares a charset; so the decoder
// runs in non-strict mode and numbers are read leniently (a garbled number is a zero,
// not a failed message). What makes a parse fail is only the absence of the element
// that defines the message kind, or of the one field a caller cannot do without; each
// parser says which.

// prepareXML accepts a Content as delivered (escaped, possibly with a group-sender
// prefix) or XML that is already plain (OriContent, or Content a caller has unescaped),
// and returns XML text that starts at its first tag.
func prepareXML(content string) string {
	s := content
	if _, rest, ok := SplitGroupSender(s); ok {
		s = rest
	}
	t := strings.TrimLeft(s, " \t\r\n")
	for strings.HasPrefix(t, "<br/>") {
		t = strings.TrimLeft(t[len("<br/>"):], " \t\r\n")
	}
	// Already-plain XML must not be unescaped again: entities in its attribute values
	// would turn into bare quotes.
	if !strings.HasPrefix(t, "<") {
		t = unescapeXML(t)
	}
	if i := strings.IndexByte(t, '<'); i > 0 {
		t = t[i:]
	}
	return t
}

// checkRoot decodes content into x and fails unless the root is `<msg>` and found says
// the kind's defining part was there; what names the kind and missing that part in the
// error.
func checkRoot(content string, x any, what, missing string, found func() bool) error {
	root, err := decodeXML(content, x)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if root != "msg" || !found() {
		return fmt.Errorf("%s: %w: no %s (root <%s>)", what, ErrMalformed, missing, root)
	}
	return nil
}

func newXMLDecoder(s string) *xml.Decoder {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	// The text already came out of a UTF-8 JSON string whatever the declaration says.
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	return d
}

// decodeXML decodes the first element of content into v and returns that element's name.
func decodeXML(content string, v any) (string, error) {
	s := prepareXML(content)
	if !strings.HasPrefix(s, "<") {
		return "", fmt.Errorf("%w: no XML in content", ErrMalformed)
	}
	root, err := decodeFirst(s, v)
	if err != nil {
		// A document cut short after its last complete tag still says what it is.
		if closed, ok := closeOpenTags(s); ok {
			reflect.ValueOf(v).Elem().SetZero()
			if root2, err2 := decodeFirst(closed, v); err2 == nil {
				return root2, nil
			}
		}
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return root, nil
}

// closeOpenTags appends end tags for the elements still open where s ends; ok is false
// when s is broken in some other way (inside a tag, attribute or CDATA, or not at all).
func closeOpenTags(s string) (string, bool) {
	d := newXMLDecoder(s)
	var open []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) && se.Msg == "unexpected EOF" {
			break
		}
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			open = append(open, t.Name.Local)
		case xml.EndElement:
			if n := len(open); n > 0 {
				open = open[:n-1]
			}
		}
	}
	if len(open) == 0 {
		return "", false
	}
	var b strings.Builder
	b.WriteString(s)
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString("</" + open[i] + ">")
	}
	return b.String(), true
}

func decodeFirst(s string, v any) (string, error) {
	d := newXMLDecoder(s)
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		if se, ok := tok.(xml.StartElement); ok {
			if err := d.DecodeElement(v, &se); err != nil {
				return "", err
			}
			return se.Name.Local, nil
		}
	}
}

// The fields of the per-kind structs: XML text is read leniently (a garbled number is
// a zero, not a failed message) and ids and URLs are trimmed of the pretty-printing's
// whitespace, by these types, so that each kind is one struct decoded in place.

// xmlStr is text with the surrounding whitespace trimmed.
type xmlStr string

func (s *xmlStr) UnmarshalText(b []byte) error { *s = xmlStr(trim(string(b))); return nil }

// xmlInt is a 32-bit number; anything else reads as 0.
type xmlInt int

func (n *xmlInt) UnmarshalText(b []byte) error { *n = xmlInt(atoi(string(b))); return nil }

// xmlInt64 is a 64-bit number (sizes, ids, times); anything else reads as 0.
type xmlInt64 int64

func (n *xmlInt64) UnmarshalText(b []byte) error { *n = xmlInt64(atoi64(string(b))); return nil }

func atoi(s string) int {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
		return 0
	}
	return int(n)
}

func atoi64(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func trim(s string) string { return strings.TrimSpace(s) }
