package protoclient

import (
	"html"
	"strings"
	"testing"
)

// benchPlain is a typical chat line: text, a line break, markup the user typed, emoji.
const benchPlain = "see you at 8 <3 & bring the cake 🎂\nok? 😄👍 你好，明天见"

// BenchmarkEncodeContent: plain text to the Content the server delivers (wxsim's render
// path and the tests' expectations). Baseline: html.EscapeString plus a "\n" → "<br/>"
// replacement, the least any encoder does to the same text.
func BenchmarkEncodeContent(b *testing.B) {
	b.Run("EncodeContent", func(b *testing.B) {
		b.SetBytes(int64(len(benchPlain)))
		b.ReportAllocs()
		for b.Loop() {
			if EncodeContent(benchPlain) == "" {
				b.Fatal("empty")
			}
		}
	})
	b.Run("baseline-html.EscapeString", func(b *testing.B) {
		b.SetBytes(int64(len(benchPlain)))
		b.ReportAllocs()
		for b.Loop() {
			if strings.ReplaceAll(html.EscapeString(benchPlain), "\n", "<br/>") == "" {
				b.Fatal("empty")
			}
		}
	})
}

// BenchmarkDecodeText: the Content of a received text message to plain text, done for
// every bridged WeChat text. Baseline: html.UnescapeString plus "<br/>" → "\n".
func BenchmarkDecodeText(b *testing.B) {
	content := EncodeContent(benchPlain)
	if DecodeText(content) != strings.ReplaceAll(benchPlain, "\uFE0F", "") {
		b.Fatalf("round trip: %q", DecodeText(content))
	}
	b.Run("DecodeText", func(b *testing.B) {
		b.SetBytes(int64(len(content)))
		b.ReportAllocs()
		for b.Loop() {
			if DecodeText(content) == "" {
				b.Fatal("empty")
			}
		}
	})
	plainOnly := "private message 42: see you at 8 &lt;3"
	b.Run("DecodeText-no-emoji", func(b *testing.B) {
		b.SetBytes(int64(len(plainOnly)))
		b.ReportAllocs()
		for b.Loop() {
			if DecodeText(plainOnly) == "" {
				b.Fatal("empty")
			}
		}
	})
	b.Run("baseline-html.UnescapeString", func(b *testing.B) {
		b.SetBytes(int64(len(content)))
		b.ReportAllocs()
		for b.Loop() {
			if html.UnescapeString(strings.ReplaceAll(content, "<br/>", "\n")) == "" {
				b.Fatal("empty")
			}
		}
	})
}
