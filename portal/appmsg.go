package portal

import (
	"html"
	"net/url"
	"strings"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// App messages (MsgType 49, §5.3, §5.4.9). The message's AppMsgType decides the kind;
// the XML adds the details. Several kinds are usable without their XML (a file is named
// by FileName/FileSize, a link by FileName/Url), so a broken XML only becomes "could not
// be shown" when nothing else is left.

func (c *converter) app() (*Converted, error) {
	a, err := protoclient.ParseAppMsg(c.body)
	if err != nil {
		a = nil
	}
	typ := c.msg.AppMsgType
	if typ == 0 && a != nil {
		typ = a.Type
	}
	switch typ {
	case protoclient.AppMsgAttach:
		return c.file(a)
	case protoclient.AppMsgEmoji:
		return c.sticker()
	case protoclient.AppMsgRefer:
		if a != nil && a.ReferMsg != nil {
			return c.quoteReply(protoclient.DecodeName(a.ReferMsg.DisplayName), referText(a.ReferMsg), a.Title, a.ReferMsg.SvrID)
		}
	case protoclient.AppMsgRealtimeLoc:
		return c.liveLocation(a)
	case protoclient.AppMsgText:
		if a != nil && strings.TrimSpace(a.Title) != "" {
			var r rich
			r.writeWeChatText(a.Title, c.members)
			return single(r.content(event.MsgText)), nil
		}
	case protoclient.AppMsgURL, protoclient.AppMsgAudio, protoclient.AppMsgVideo,
		protoclient.AppMsgMiniProgram, protoclient.AppMsgMiniProgApp:
		if content := c.linkCard(typ, a); content != nil {
			return single(content), nil
		}
	case protoclient.AppMsgTransfers, protoclient.AppMsgRedEnvelopes:
		// Money stays on the phone; what WeChat says about it ("收到转账0.01元") helps.
		n := phoneNotice(KindName(protoclient.MsgApp, typ), "")
		if a != nil {
			if detail := firstNonEmpty(a.Des, a.Title); detail != "" && detail != c.msg.FileName {
				n.Body += " " + oneLine(detail)
			}
		}
		return single(n), nil
	case 0, protoclient.AppMsgChatHistory:
		if a != nil {
			// A merged forward: its description is the first lines of the chats.
			n := phoneNotice("Chat history", "")
			for _, s := range []string{a.Title, a.Des} {
				if s = strings.TrimSpace(s); s != "" {
					n.Body += "\n" + s
				}
			}
			return single(n), nil
		}
	}
	if a == nil && typ == 0 {
		return single(cannotShow(protoclient.MsgApp, "its content could not be read")), nil
	}
	n := phoneNotice(KindName(protoclient.MsgApp, typ), "")
	if title := c.appTitle(a); title != "" {
		n.Body += " " + oneLine(title)
	}
	return single(n), nil
}

func (c *converter) appTitle(a *protoclient.AppMsg) string {
	if a != nil && strings.TrimSpace(a.Title) != "" {
		return strings.TrimSpace(a.Title)
	}
	return strings.TrimSpace(protoclient.DecodeName(c.msg.FileName))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// referText is how the quoted message of a structured reply reads.
func referText(r *protoclient.ReferMsg) string {
	switch r.Type {
	case protoclient.MsgText:
		return strings.TrimSpace(protoclient.DecodeText(r.Content))
	case protoclient.MsgApp:
		if a, err := protoclient.ParseAppMsg(r.Content); err == nil && strings.TrimSpace(a.Title) != "" {
			return "[" + KindName(protoclient.MsgApp, a.Type) + "] " + strings.TrimSpace(a.Title)
		}
	}
	return "[" + KindName(r.Type, -1) + "]"
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
// body. Official-account article lists become one entry per article. nil when there is
// nothing to show.
func (c *converter) linkCard(typ protoclient.AppMsgType, a *protoclient.AppMsg) *event.MessageEventContent {
	title := c.appTitle(a)
	var des, link, extra string
	if a != nil {
		des = strings.TrimSpace(a.Des)
		link = safeURL(a.URL)
	}
	if link == "" {
		// The message field is HTML-escaped like Content.
		link = safeURL(html.UnescapeString(c.msg.Url))
	}
	label := ""
	switch typ {
	case protoclient.AppMsgAudio:
		label = "Music"
		if a != nil {
			extra = safeURL(firstNonEmpty(a.DataURL, a.LowDataURL))
		}
	case protoclient.AppMsgVideo:
		label = "Video"
	case protoclient.AppMsgMiniProgram, protoclient.AppMsgMiniProgApp:
		label = "Mini program"
		if a != nil && a.SourceDisplayName != "" {
			label += " " + strings.TrimSpace(a.SourceDisplayName)
		}
		// Mini programs only open in WeChat; their URL is the "please upgrade" page.
		if strings.Contains(link, "/waerrpage") {
			link = ""
		}
		des = firstNonEmpty(des, "open it in WeChat on your phone")
	}
	if a != nil && len(a.Articles) > 1 {
		return articleList(title, a.Articles)
	}
	if title == "" && link == "" {
		return nil
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
		t := firstNonEmpty(it.Title, it.URL)
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
