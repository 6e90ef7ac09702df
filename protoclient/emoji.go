package protoclient

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Emoji in message content, nick names and remark names travel as
// `<span class="emoji emoji1f604"></span>` (§5.4.4). The hex is the concatenation of
// the code points of the emoji, each without leading zeros: one code point ("1f604",
// "2600"), a flag ("1f1e81f1f3", two regional indicators) or a keycap ("2320e3",
// '#' + U+20E3, the 2+4 split ItChat knows about).
//
// Which characters the server turns into spans is not documented. The rule here follows
// Unicode's emoji presentation (UTS #51), so that ordinary text — CJK, Latin, and the
// symbols people put in names like ★ or ♪ — stays text:
//
//   - every code point in U+1F000–U+1FAFF (the supplementary pictographic blocks:
//     mahjong/cards, enclosed alphanumerics with the regional indicators, pictographs,
//     emoticons, transport, skin-tone modifiers, supplemental symbols) is an emoji;
//   - a BMP code point is an emoji when it has default emoji presentation (⌚, ☔, ⚡,
//     ✅, ❌, ⭐, … the Emoji_Presentation=Yes list of emoji-data.txt), or when it is one
//     of the BMP pictographic symbols (©, ®, ‼, ™, arrows, ☀, ♥, ✈, ❤, ⬅, 〽, ㊗, …)
//     followed by U+FE0F, i.e. the sender asked for emoji style;
//   - '#', '*' and '0'–'9' followed by U+20E3 (optionally with U+FE0F between) are a
//     keycap, one span of two code points.
//
// U+FE0F is always dropped: the span carries no presentation selector.

// catFaceFix maps the codes the server uses for some faces to the intended ones (ItChat's
// list, §5.4.4). They are applied to received text only; the encoder never produces them
// on purpose, so a cat face that is typed does not survive a round trip.
var catFaceFix = map[rune]rune{
	0x1f63c: 0x1f601,
	0x1f639: 0x1f602,
	0x1f63a: 0x1f603,
	0x1f4ab: 0x1f616,
	0x1f64d: 0x1f614,
	0x1f63b: 0x1f60d,
	0x1f63d: 0x1f618,
	0x1f64e: 0x1f621,
	0x1f63f: 0x1f622,
}

// bmpPresentation is the Emoji_Presentation=Yes set of the BMP, as [lo, hi] pairs.
var bmpPresentation = [][2]rune{
	{0x231a, 0x231b}, {0x23e9, 0x23ec}, {0x23f0, 0x23f0}, {0x23f3, 0x23f3},
	{0x25fd, 0x25fe}, {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267f, 0x267f},
	{0x2693, 0x2693}, {0x26a1, 0x26a1}, {0x26aa, 0x26ab}, {0x26bd, 0x26be},
	{0x26c4, 0x26c5}, {0x26ce, 0x26ce}, {0x26d4, 0x26d4}, {0x26ea, 0x26ea},
	{0x26f2, 0x26f3}, {0x26f5, 0x26f5}, {0x26fa, 0x26fa}, {0x26fd, 0x26fd},
	{0x2705, 0x2705}, {0x270a, 0x270b}, {0x2728, 0x2728}, {0x274c, 0x274c},
	{0x274e, 0x274e}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797},
	{0x27b0, 0x27b0}, {0x27bf, 0x27bf}, {0x2b1b, 0x2b1c}, {0x2b50, 0x2b50},
	{0x2b55, 0x2b55},
}

// bmpPictographic are the BMP symbols that become emoji when followed by U+FE0F.
var bmpPictographic = [][2]rune{
	{0x00a9, 0x00a9}, {0x00ae, 0x00ae}, {0x203c, 0x203c}, {0x2049, 0x2049},
	{0x2122, 0x2122}, {0x2139, 0x2139}, {0x2190, 0x21ff}, {0x2300, 0x23ff},
	{0x24c2, 0x24c2}, {0x25a0, 0x25ff}, {0x2600, 0x27bf}, {0x2900, 0x297f},
	{0x2b00, 0x2bff}, {0x3030, 0x3030}, {0x303d, 0x303d}, {0x3297, 0x3297},
	{0x3299, 0x3299},
}

const (
	vs16          = '\ufe0f'
	keycapCombine = '\u20e3'
)

func inRanges(r rune, ranges [][2]rune) bool {
	for _, rg := range ranges {
		if r < rg[0] {
			return false
		}
		if r <= rg[1] {
			return true
		}
	}
	return false
}

func isRegionalIndicator(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }

func isSupplementaryEmoji(r rune) bool { return r >= 0x1f000 && r <= 0x1faff }

func isKeycapBase(r rune) bool { return r == '#' || r == '*' || (r >= '0' && r <= '9') }

// hasEmojiPresentation reports whether a lone code point is shown as emoji without a
// selector; a decoded span of any other code point gets U+FE0F so it does not render
// as a text symbol.
func hasEmojiPresentation(r rune) bool {
	return isSupplementaryEmoji(r) || inRanges(r, bmpPresentation)
}

// nextEmoji looks at the start of s. If an emoji starts there it returns its code points
// and the number of bytes it covers (including any U+FE0F it swallows); otherwise n == 0.
func nextEmoji(s string) (cps []rune, n int) {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return nil, 0
	}
	rest := s[size:]
	next, nsize := utf8.DecodeRuneInString(rest)
	switch {
	case isKeycapBase(r):
		if next == vs16 {
			if after, asize := utf8.DecodeRuneInString(rest[nsize:]); after == keycapCombine {
				return []rune{r, keycapCombine}, size + nsize + asize
			}
			return nil, 0
		}
		if next == keycapCombine {
			return []rune{r, keycapCombine}, size + nsize
		}
		return nil, 0
	case isRegionalIndicator(r):
		if isRegionalIndicator(next) {
			return []rune{r, next}, size + nsize
		}
		return []rune{r}, size
	case isSupplementaryEmoji(r) || inRanges(r, bmpPresentation):
		return []rune{r}, size
	case inRanges(r, bmpPictographic) && next == vs16:
		return []rune{r}, size + nsize
	}
	return nil, 0
}

func emojiSpan(b *strings.Builder, cps []rune) {
	b.WriteString(`<span class="emoji emoji`)
	for _, cp := range cps {
		b.WriteString(strconv.FormatInt(int64(cp), 16))
	}
	b.WriteString(`"></span>`)
}

// emojiFromHex turns the hex of a span into text; ok is false for codes that are not
// one of the known shapes, which the caller then leaves alone.
func emojiFromHex(hex string) (string, bool) {
	hex = strings.ToLower(hex)
	var parts []string
	switch n := len(hex); {
	case n >= 1 && n <= 5:
		parts = []string{hex}
	case n == 6:
		parts = []string{hex[:2], hex[2:]}
	case n == 7:
		parts = []string{hex[:3], hex[3:]}
	case n == 8:
		parts = []string{hex[:4], hex[4:]}
	case n == 9:
		// No sample of a 9-digit code exists; a supplementary code point first is the
		// likelier shape (emoji + BMP combiner), otherwise BMP + supplementary.
		if hex[0] == '1' {
			parts = []string{hex[:5], hex[5:]}
		} else {
			parts = []string{hex[:4], hex[4:]}
		}
	case n == 10:
		parts = []string{hex[:5], hex[5:]}
	default:
		return "", false
	}
	cps := make([]rune, 0, 2)
	for _, p := range parts {
		v, err := strconv.ParseUint(p, 16, 32)
		if err != nil || v == 0 || v > utf8.MaxRune || (v >= 0xd800 && v <= 0xdfff) {
			return "", false
		}
		cps = append(cps, rune(v))
	}
	if len(cps) == 1 {
		r := cps[0]
		if fix, ok := catFaceFix[r]; ok {
			r = fix
		}
		if !hasEmojiPresentation(r) && inRanges(r, bmpPictographic) {
			return string([]rune{r, vs16}), true
		}
		return string(r), true
	}
	return string(cps), true
}
