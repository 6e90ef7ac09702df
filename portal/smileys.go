package portal

import "strings"

// WeChat's own faces travel as text tokens — `[微笑]` from a phone set to Chinese,
// `[Smile]` from one set to English (§5.4.4) — and every WeChat client draws them as
// pictures. On Matrix the token would read as noise, so the ones with a close Unicode
// emoji are replaced by it. Faces without a fair equivalent (the fist-in-palm salute,
// the tai chi pair, the doge…) stay as the token: a literal `[旺柴]` still says what it
// was, a wrong emoji would not.
//
// Each row is one face: the Chinese name, the English name ("" when unknown) and the
// emoji. The English names are those of WeChat's English UI for the classic set.
var smileyRows = [...]struct{ zh, en, emoji string }{
	{"微笑", "Smile", "🙂"},
	{"撇嘴", "Grimace", "😣"},
	{"色", "Drool", "😍"},
	{"发呆", "Scowl", "😳"},
	{"得意", "CoolGuy", "😎"},
	{"流泪", "Sob", "😢"},
	{"害羞", "Shy", "☺️"},
	{"闭嘴", "Silent", "🤐"},
	{"睡", "Sleep", "😴"},
	{"大哭", "Cry", "😭"},
	{"尴尬", "Awkward", "😅"},
	{"发怒", "Angry", "😡"},
	{"调皮", "Tongue", "😜"},
	{"呲牙", "Grin", "😁"},
	{"惊讶", "Surprise", "😮"},
	{"难过", "Frown", "🙁"},
	{"冷汗", "Blush", "😰"},
	{"抓狂", "Scream", "😫"},
	{"吐", "Puke", "🤮"},
	{"偷笑", "Chuckle", "🤭"},
	{"愉快", "Joyful", "😊"},
	{"白眼", "Slight", "🙄"},
	{"傲慢", "Smug", "😤"},
	{"饥饿", "Hungry", "🤤"},
	{"困", "Drowsy", "😪"},
	{"惊恐", "Panic", "😱"},
	{"流汗", "Sweat", "😓"},
	{"憨笑", "Laugh", "😄"},
	{"奋斗", "Determined", "💪"},
	{"咒骂", "Scold", "🤬"},
	{"疑问", "Shocked", "🤔"},
	{"嘘", "Shhh", "🤫"},
	{"晕", "Dizzy", "😵"},
	{"骷髅", "Skull", "💀"},
	{"敲打", "Hammer", "🔨"},
	{"再见", "Wave", "👋"},
	{"擦汗", "Speechless", "😅"},
	{"鼓掌", "Clap", "👏"},
	{"坏笑", "Trick", "😏"},
	{"哈欠", "Yawn", "🥱"},
	{"鄙视", "Pooh-pooh", "😒"},
	{"委屈", "Shrunken", "🥺"},
	{"快哭了", "TearingUp", "🥹"},
	{"阴险", "Sly", "😈"},
	{"亲亲", "Kiss", "😚"},
	{"吓", "Wrath", "😨"},
	{"可怜", "Whimper", "🥺"},
	{"菜刀", "Cleaver", "🔪"},
	{"西瓜", "Watermelon", "🍉"},
	{"啤酒", "Beer", "🍺"},
	{"篮球", "Basketball", "🏀"},
	{"乒乓", "PingPong", "🏓"},
	{"咖啡", "Coffee", "☕"},
	{"饭", "Rice", "🍚"},
	{"猪头", "Pig", "🐷"},
	{"玫瑰", "Rose", "🌹"},
	{"凋谢", "Wilt", "🥀"},
	{"嘴唇", "Lips", "💋"},
	{"爱心", "Heart", "❤️"},
	{"心碎", "BrokenHeart", "💔"},
	{"蛋糕", "Cake", "🎂"},
	{"闪电", "Lightning", "⚡"},
	{"炸弹", "Bomb", "💣"},
	{"刀", "Dagger", "🗡️"},
	{"足球", "Soccer", "⚽"},
	{"瓢虫", "Ladybug", "🐞"},
	{"便便", "Poop", "💩"},
	{"月亮", "Moon", "🌙"},
	{"太阳", "Sun", "☀️"},
	{"礼物", "Gift", "🎁"},
	{"拥抱", "Hug", "🤗"},
	{"强", "ThumbsUp", "👍"},
	{"弱", "ThumbsDown", "👎"},
	{"握手", "Shake", "🤝"},
	{"胜利", "Peace", "✌️"},
	{"拳头", "Fist", "👊"},
	{"爱你", "RockOn", "🤟"},
	{"OK", "OK", "👌"},
	{"爱情", "InLove", "💑"},
	{"飞吻", "Blowkiss", "😘"},
	{"发抖", "Tremble", "🥶"},
	{"转圈", "Twirl", "💃"},
	{"投降", "Surrender", "🏳️"},
	{"激动", "Hooray", "🙌"},
	// The newer set.
	{"捂脸", "Facepalm", "🤦"},
	{"奸笑", "Smirk", "😏"},
	{"皱眉", "Concerned", "😟"},
	{"红包", "Packet", "🧧"},
	{"鸡", "Chick", "🐥"},
	{"加油", "GoForIt", "💪"},
	{"汗", "Sweats", "😓"},
	{"天啊", "OMG", "😱"},
	{"好的", "NoProb", "👌"},
	{"哇", "Wow", "🤩"},
	{"翻白眼", "Boring", "🙄"},
	{"叹气", "Sigh", "😮‍💨"},
	{"合十", "Worship", "🙏"},
	{"庆祝", "Party", "🎉"},
	{"烟花", "Fireworks", "🎆"},
	{"爆竹", "Firecracker", "🧨"},
	{"蜡烛", "Candle", "🕯️"},
}

// smileys maps the text between the brackets to the emoji.
var smileys = func() map[string]string {
	m := make(map[string]string, 2*len(smileyRows))
	for _, r := range smileyRows {
		m[r.zh] = r.emoji
		if r.en != "" {
			m[r.en] = r.emoji
		}
	}
	return m
}()

// maxSmileyName bounds how far after a '[' a closing ']' is looked for: the longest
// name is a few characters, and a bound keeps a text full of '[' linear.
const maxSmileyName = 32

// ReplaceSmileys turns the WeChat face tokens of decoded text into Unicode emoji where
// one fits; unknown tokens and other bracketed text stay as they are.
func ReplaceSmileys(text string) string {
	if !strings.Contains(text, "[") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		open := strings.IndexByte(text[i:], '[')
		if open < 0 {
			b.WriteString(text[i:])
			break
		}
		open += i
		b.WriteString(text[i:open])
		limit := min(len(text), open+1+maxSmileyName)
		closing := strings.IndexByte(text[open+1:limit], ']')
		if closing < 0 {
			b.WriteByte('[')
			i = open + 1
			continue
		}
		name := text[open+1 : open+1+closing]
		if emoji, ok := smileys[name]; ok {
			b.WriteString(emoji)
			i = open + closing + 2
			continue
		}
		// Not a face: keep the '[' and look again from the next byte, so that
		// "[[微笑]" still finds the face.
		b.WriteByte('[')
		i = open + 1
	}
	return b.String()
}
