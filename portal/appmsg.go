package portal

import (
	"cmp"
	"html"
	"net/url"
	"strings"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// App messages (MsgType 49, §5.3, §5.4.9) that are neither files, stickers, replies,
// live locations nor text: money, forwarded chat histories, other kinds.

// appNotice: money stays on the phone, but what WeChat says about it ("收到转账0.01元")
// helps; a merged forward shows its description, the first lines of the chats.
func appNotice(a *protoclient.App) *event.MessageEventContent {
	switch a.Type {
	case protoclient.AppMsgTransfers, protoclient.AppMsgRedEnvelopes:
		n := phoneNotice(KindName(protoclient.MsgApp, a.Type), "")
		if a.Parsed {
			if detail := cmp.Or(a.Description, a.Title); detail != "" && detail != a.FileName {
				n.Body += " " + oneLine(detail)
			}
		}
		return n
	case 0, protoclient.AppMsgChatHistory:
		if a.Parsed {
			n := phoneNotice("Chat history", "")
			for _, s := range []string{a.Title, a.Description} {
				if s != "" {
					n.Body += "\n" + s
				}
			}
			return n
		}
	}
	n := phoneNotice(KindName(protoclient.MsgApp, a.Type), "")
	if title := cmp.Or(a.Title, a.FileName); title != "" {
		n.Body += " " + oneLine(title)
	}
	return n
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// quotedText is how the quoted message of a reply reads.
func quotedText(q *protoclient.Reply) string {
	switch {
	case q.QuotedType == 0 || q.QuotedType == protoclient.MsgText:
		return q.Quoted
	case q.QuotedType == protoclient.MsgApp && q.Quoted != "":
		return "[" + KindName(protoclient.MsgApp, q.QuotedAppType) + "] " + q.Quoted
	}
	return "[" + KindName(q.QuotedType, -1) + "]"
}

// safeURL returns u when it is an http(s) link a client may open; javascript: and other
// schemes from untrusted XML never become an href.
func safeURL(u string) string {
	u = strings.TrimSpace(u)
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
}

// linkCard renders links, music, video links and mini programs: a label for what it is
// (plain links need none), the title as a link, the description, then the URL in the
// body. Official-account article lists become one entry per article. A card with
// neither title nor link says what it was.
func linkCard(l *protoclient.Link) *event.MessageEventContent {
	title, des := l.Title, l.Description
	link := safeURL(l.URL)
	if link == "" {
		link = safeURL(l.PageURL)
	}
	var extra string
	label := ""
	switch l.Type {
	case protoclient.AppMsgAudio:
		label = "Music"
		extra = safeURL(l.AudioURL)
	case protoclient.AppMsgVideo:
		label = "Video"
	case protoclient.AppMsgMiniProgram, protoclient.AppMsgMiniProgApp:
		label = "Mini program"
		if l.Source != "" {
			label += " " + l.Source
		}
		// Mini programs only open in WeChat; their URL is the "please upgrade" page.
		if strings.Contains(link, "/waerrpage") {
			link = ""
		}
		des = cmp.Or(des, "open it in WeChat on your phone")
	}
	if len(l.Articles) > 1 {
		return articleList(title, l.Articles)
	}
	if title == "" && link == "" {
		return phoneNotice(KindName(protoclient.MsgApp, l.Type), "")
	}
	var r rich
	if label != "" {
		r.markup(label+": ", "<i>"+escapeHTML(label)+"</i>: ")
	}
	if title == "" {
		title = link
	}
	if link != "" {
		r.markup(title, `<a href="`+html.EscapeString(link)+`"><b>`+escapeHTML(title)+`</b></a>`)
	} else {
		r.markup(title, "<b>"+escapeHTML(title)+"</b>")
	}
	if des != "" && des != title {
		r.text("\n" + des)
	}
	if link != "" && link != title {
		r.markup("\n"+link, "")
	}
	if extra != "" && extra != link {
		r.text("\n")
		r.markup(extra, `<a href="`+html.EscapeString(extra)+`">`+escapeHTML(extra)+`</a>`)
	}
	return r.content(event.MsgText)
}

// articleList renders an official account's articles (`<mmreader>`), one link each.
func articleList(title string, items []protoclient.ArticleItem) *event.MessageEventContent {
	var r rich
	if title != "" {
		r.markup(title, "<b>"+escapeHTML(title)+"</b>")
	}
	r.markup("", "<ul>")
	for _, it := range items {
		t := cmp.Or(it.Title, it.URL)
		if t == "" {
			continue
		}
		link := safeURL(it.URL)
		if r.plain.Len() > 0 {
			r.plain.WriteString("\n")
		}
		r.plain.WriteString("• " + t)
		r.html.WriteString("<li>")
		if link != "" {
			r.plain.WriteString("\n  " + link)
			r.html.WriteString(`<a href="` + html.EscapeString(link) + `">` + escapeHTML(t) + `</a>`)
		} else {
			r.html.WriteString(escapeHTML(t))
		}
		if d := strings.TrimSpace(it.Digest); d != "" {
			r.plain.WriteString("\n  " + d)
			r.html.WriteString("<br/>" + escapeHTML(d))
		}
		r.html.WriteString("</li>")
	}
	r.markup("", "</ul>")
	return r.content(event.MsgText)
}
