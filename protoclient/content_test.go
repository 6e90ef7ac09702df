package protoclient

import (
	"strings"
	"testing"
)

func TestEncodeContent(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "hello", "hello"},
		{"cjk untouched", "为什么这么冷", "为什么这么冷"},
		{"escapes but not quote", `a<b>&"c'`, `a&lt;b&gt;&amp;"c'`},
		{"newline", "a\nb\n", "a<br/>b<br/>"},
		{"one emoji", "hi😄", `hi<span class="emoji emoji1f604"></span>`},
		{"two emoji two spans", "😄😄", `<span class="emoji emoji1f604"></span><span class="emoji emoji1f604"></span>`},
		{"flag", "🇨🇳", `<span class="emoji emoji1f1e81f1f3"></span>`},
		{"three regional indicators", "🇨🇳🇦", `<span class="emoji emoji1f1e81f1f3"></span><span class="emoji emoji1f1e6"></span>`},
		{"keycap with selector", "#\ufe0f\u20e3", `<span class="emoji emoji2320e3"></span>`},
		{"keycap without selector", "1\u20e3", `<span class="emoji emoji3120e3"></span>`},
		{"digit with selector only", "1\ufe0f", "1"},
		{"bmp presentation emoji", "⌚⚡", `<span class="emoji emoji231a"></span><span class="emoji emoji26a1"></span>`},
		{"bmp text symbol stays text", "★♪☀", "★♪☀"},
		{"bmp symbol asking for emoji", "☀\ufe0f", `<span class="emoji emoji2600"></span>`},
		{"heart with selector", "❤\ufe0f", `<span class="emoji emoji2764"></span>`},
		{"selector after letter dropped", "a\ufe0fb", "ab"},
		{"skin tone is its own span", "👍🏻", `<span class="emoji emoji1f44d"></span><span class="emoji emoji1f3fb"></span>`},
		{"zwj stays text", "👨\u200d👩", `<span class="emoji emoji1f468"></span>` + "\u200d" + `<span class="emoji emoji1f469"></span>`},
		{"mention space kept", "@张三\u2005你好", "@张三\u2005你好"},
		{"qq face token", "[微笑]", "[微笑]"},
		{"invalid utf8 copied", "a\xffb", "a\xffb"},
		{"user typed markup", "<br/><span>", "&lt;br/&gt;&lt;span&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeContent(tt.in); got != tt.want {
				t.Errorf("EncodeContent(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "为什么这么冷", "为什么这么冷"},
		{"entities", "a&lt;b&gt;&amp;&quot;c&#39;", `a<b>&"c'`},
		{"br forms", "a<br/>b<br>c<br />d", "a\nb\nc\nd"},
		{"5 hex", `<span class="emoji emoji1f604"></span>`, "😄"},
		{"4 hex bmp presentation", `<span class="emoji emoji231a"></span>`, "⌚"},
		{"4 hex bmp text default gets selector", `<span class="emoji emoji2600"></span>`, "☀\ufe0f"},
		{"8 hex", `<span class="emoji emoji260e20e3"></span>`, "\u260e\u20e3"},
		{"10 hex flag", `<span class="emoji emoji1f1e81f1f3"></span>`, "🇨🇳"},
		{"6 hex keycap", `<span class="emoji emoji2320e3"></span>`, "#\u20e3"},
		{"upper case hex", `<span class="emoji emoji1F604"></span>`, "😄"},
		{"missing final >", `<span class="emoji emoji1f450"></span` + "ok", "👐ok"},
		{"cat face 1f63c", `<span class="emoji emoji1f63c"></span>`, "😁"},
		{"cat face 1f639", `<span class="emoji emoji1f639"></span>`, "😂"},
		{"cat face 1f63a", `<span class="emoji emoji1f63a"></span>`, "😃"},
		{"cat face 1f4ab", `<span class="emoji emoji1f4ab"></span>`, "😖"},
		{"cat face 1f64d", `<span class="emoji emoji1f64d"></span>`, "😔"},
		{"cat face 1f63b", `<span class="emoji emoji1f63b"></span>`, "😍"},
		{"cat face 1f63d", `<span class="emoji emoji1f63d"></span>`, "😘"},
		{"cat face 1f64e", `<span class="emoji emoji1f64e"></span>`, "😡"},
		{"cat face 1f63f", `<span class="emoji emoji1f63f"></span>`, "😢"},
		{"surrogate code left alone", `<span class="emoji emojid800"></span>`, `<span class="emoji emojid800"></span>`},
		{"too long left alone", `<span class="emoji emoji1f6041f6041"></span>`, `<span class="emoji emoji1f6041f6041"></span>`},
		{"escaped span is text", `&lt;span class="emoji emoji1f604"&gt;&lt;/span&gt;`, `<span class="emoji emoji1f604"></span>`},
		{"nickname from wechat4u", `吃圡死月不會碼代碼<span class="emoji emoji1f31b"></span>`, "吃圡死月不會碼代碼🌛"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeText(tt.in); got != tt.want {
				t.Errorf("DecodeText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeName(t *testing.T) {
	if got, want := DecodeName(`A&amp;B<span class="emoji emoji1f31b"></span>`), "A&B🌛"; got != want {
		t.Errorf("DecodeName = %q, want %q", got, want)
	}
	if got, want := DecodeName("a<br/>b"), "a<br/>b"; got != want {
		t.Errorf("DecodeName keeps <br/>: got %q", got)
	}
}

// roundTripCorpus is shared with the fuzz target's seeds.
var roundTripCorpus = []string{
	"", "hello", "为什么这么冷", "a<b>&c\"d'", "line1\nline2\n\n", "😄🇨🇳#\u20e3⌚👍🏻",
	"&amp; &lt; <br/> <span class=\"emoji emoji1f604\"></span>", "a\xffb\xc0", "@张三\u2005hi",
	"「张三：hi」\n- - - - - - - - - - - - - - -\nok", "\u200d\u20e3\U0001f1e6", "&#128516;",
}

func TestRoundTrip(t *testing.T) {
	for _, s := range roundTripCorpus {
		checkRoundTrip(t, s)
	}
}

func hasCatFace(s string) bool {
	for _, r := range s {
		if _, ok := catFaceFix[r]; ok {
			return true
		}
	}
	return false
}

// checkRoundTrip states the round-trip property: without U+FE0F (dropped by design)
// and cat-face code points (rewritten on decode), decoding gives back the input; and
// with them, encoding is stable under a decode/encode cycle.
func checkRoundTrip(t *testing.T, s string) {
	t.Helper()
	enc := EncodeContent(s)
	if again := EncodeContent(DecodeText(enc)); again != enc && !hasCatFace(s) {
		t.Errorf("encoding not stable for %q: %q then %q", s, enc, again)
	}
	plain := strings.ReplaceAll(s, "\ufe0f", "")
	if hasCatFace(plain) {
		return
	}
	if got := DecodeText(EncodeContent(plain)); got != plain {
		t.Errorf("DecodeText(EncodeContent(%q)) = %q (encoded %q)", plain, got, EncodeContent(plain))
	}
}

func TestSplitGroupSender(t *testing.T) {
	tests := []struct {
		name, in, sender, rest string
		ok                     bool
	}{
		{"text", "@xxxxxxxxxxxxxxxxxxxxx:<br/>Test Message", "@xxxxxxxxxxxxxxxxxxxxx", "Test Message", true},
		{"later separators kept", "@abc123:<br/>深圳市xxxx:<br/>/cgi-bin/mmwebwx-bin/webwxgetpubliclinkimg?x", "@abc123", "深圳市xxxx:<br/>/cgi-bin/mmwebwx-bin/webwxgetpubliclinkimg?x", true},
		{"xml after prefix", "@9abc:<br/>&lt;sysmsg type=\"revokemsg\"&gt;", "@9abc", "&lt;sysmsg type=\"revokemsg\"&gt;", true},
		{"wxid sender", "wxid_a-b_1:<br/>hi", "wxid_a-b_1", "hi", true},
		{"empty rest", "@abc:<br/>", "@abc", "", true},
		{"no prefix", "Test Message", "", "Test Message", false},
		{"prefix not at start", "hi @abc:<br/>x", "", "hi @abc:<br/>x", false},
		{"group name is not a sender", "@@abc:<br/>x", "", "@@abc:<br/>x", false},
		{"escaped xml has no prefix", "&lt;msg&gt;", "", "&lt;msg&gt;", false},
		{"br without colon", "@abc<br/>x", "", "@abc<br/>x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, r, ok := SplitGroupSender(tt.in)
			if s != tt.sender || r != tt.rest || ok != tt.ok {
				t.Errorf("SplitGroupSender(%q) = %q, %q, %v; want %q, %q, %v", tt.in, s, r, ok, tt.sender, tt.rest, tt.ok)
			}
		})
	}
}

func TestUnescapeXML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"once", `&lt;msg a="x"&gt;&lt;/msg&gt;`, `<msg a="x"></msg>`},
		{"pretty printed", "&lt;msg&gt;<br/>\t&lt;b&gt;1&lt;/b&gt;<br/>&lt;/msg&gt;", "<msg>\n\t<b>1</b>\n</msg>"},
		{"inner entities stay once-escaped", `&lt;msg content="&amp;quot;x&amp;quot;"/&gt;`, `<msg content="&quot;x&quot;"/>`},
		{"double escaped", `&amp;lt;msg&amp;gt;&amp;lt;/msg&amp;gt;`, `<msg></msg>`},
		{"plain text untouched", "hello", "hello"},
		{"emoji span in text", `&lt;title&gt;hi<span class="emoji emoji1f604"></span>&lt;/title&gt;`, "<title>hi😄</title>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unescapeXML(tt.in); got != tt.want {
				t.Errorf("unescapeXML(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMentionsName(t *testing.T) {
	tests := []struct {
		text, name string
		want       bool
	}{
		{"@张三\u2005你好", "张三", true},
		{"@张三 你好", "张三", true},
		{"你好 @张三", "张三", true},
		{"@张三丰 你好", "张三", false},
		{"@张三丰 @张三\u2005", "张三", true},
		{"张三 你好", "张三", false},
		{"mail@张三x", "张三", false},
		{"@", "", false},
		{"@Bob🌛 hi", "Bob🌛", true},
	}
	for _, tt := range tests {
		if got := MentionsName(tt.text, tt.name); got != tt.want {
			t.Errorf("MentionsName(%q, %q) = %v, want %v", tt.text, tt.name, got, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	sep := "- - - - - - - - - - - - - - -"
	tests := []struct {
		name, in string
		want     Quote
		ok       bool
	}{
		{"decoded", "「张三：为什么这么冷」\n" + sep + "\n因为冬天", Quote{"张三", "为什么这么冷", "因为冬天"}, true},
		{"br form", "「张三：a&amp;b」<br/>" + sep + "<br/>ok<br/>two", Quote{"张三", "a&b", "ok\ntwo"}, true},
		{"colon in quoted", "「张三：12：30 开会」\n" + sep + "\n好", Quote{"张三", "12：30 开会", "好"}, true},
		{"multiline quoted", "「Bob：l1\nl2」\n" + sep + "\nr", Quote{"Bob", "l1\nl2", "r"}, true},
		{"official web app form", "「Bob: hi」\n—————————\nr", Quote{"Bob", "hi", "r"}, true},
		{"empty reply", "「Bob：hi」\n" + sep + "\n", Quote{"Bob", "hi", ""}, true},
		{"not a quote", "hello", Quote{}, false},
		{"no separator", "「Bob：hi」 ok", Quote{}, false},
		{"no colon", "「Bobhi」\n" + sep + "\nr", Quote{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseQuote(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("parseQuote(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
	text := FormatQuote("张三", "为什么这么冷", "因为冬天\n真的")
	if want := "「张三：为什么这么冷」\n" + sep + "\n因为冬天\n真的"; text != want {
		t.Errorf("FormatQuote = %q, want %q", text, want)
	}
	// What the server makes of the sent text parses back.
	if q, ok := parseQuote(EncodeContent(text)); !ok || q != (Quote{"张三", "为什么这么冷", "因为冬天\n真的"}) {
		t.Errorf("parseQuote(EncodeContent(FormatQuote(…))) = %+v, %v", q, ok)
	}
}
