package portal

import (
	"context"
	"path"
	"strings"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/format"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient"
)

// ErrUnsupported is what FromMatrix returns for what WeChat cannot receive; Reason is
// for the person who sent it (the bridge shows it as the failed message's status).
// Match it with errors.As(err, new(*ErrUnsupported)).
type ErrUnsupported struct {
	Reason string
}

func (e *ErrUnsupported) Error() string { return "not supported on WeChat: " + e.Reason }

func unsupported(reason string) error { return &ErrUnsupported{Reason: reason} }

// maxQuoted bounds the quoted text of a reply, as phones abbreviate it: the quote
// reminds, the reply is the message.
const maxQuoted = 100

// FromMatrix converts a Matrix message to what to send to WeChat. reply describes the
// message it replies to (nil if none): WeChat has no structured reply on the web, so it
// becomes the phones' quote text (§5.4.6) above the reply. dir resolves pills to the
// members' WeChat display names.
//
// For media (OutImage, OutVideo, OutFile, OutEmoticon) the bridge downloads the Matrix
// media into Data; FileName and MimeType are set here. WeChat media has no caption: a
// caption is returned in Text (with the reply's quote, if any), for the bridge to send
// as a text message after the media.
func FromMatrix(ctx context.Context, content *event.MessageEventContent, reply *QuotedMessage, dir Directory) (*Outgoing, error) {
	return fromMatrix(ctx, content, reply, dir, false)
}

// FromMatrixRelayed is FromMatrix for a message of a Matrix user without a WeChat login,
// sent through another user's login (bridgev2's relay mode). bridgev2 has already put
// it through the relay template (bridge.relay.message_formats): its formatted body is
// the whole text WeChat gets, sender's name included, so the HTML is flattened the same
// way but nothing is added: no "/me" (the emote template says who), and a location is
// the template's line above the map link. Media still arrive as the media and then the
// rendered text, which names the sender.
func FromMatrixRelayed(ctx context.Context, content *event.MessageEventContent, reply *QuotedMessage, dir Directory) (*Outgoing, error) {
	return fromMatrix(ctx, content, reply, dir, true)
}

func fromMatrix(ctx context.Context, content *event.MessageEventContent, reply *QuotedMessage, dir Directory, relayed bool) (*Outgoing, error) {
	if content == nil {
		return nil, unsupported("the message is empty")
	}
	if content.RelatesTo.GetReplaceID() != "" || content.NewContent != nil {
		return nil, unsupported("edits cannot be sent to WeChat")
	}
	switch content.MsgType {
	case event.MsgText, event.MsgNotice, event.MsgEmote:
		text := matrixText(ctx, content, dir)
		if content.MsgType == event.MsgEmote && !relayed {
			// WeChat has no emotes; "/me" is how people write one there.
			text = "/me " + text
		}
		if strings.TrimSpace(text) == "" {
			return nil, unsupported("the message is empty")
		}
		return &Outgoing{Kind: OutText, Text: withQuote(reply, text)}, nil
	case event.MsgLocation:
		lat, lng, ok := parseGeoURI(content.GeoURI)
		if !ok {
			return nil, unsupported("the location has no valid coordinates")
		}
		place := strings.TrimSpace(content.Body)
		if relayed {
			place = matrixText(ctx, content, dir)
		}
		switch {
		case relayed && place != "":
			// The relay template's line ("Name sent a location") says what it is.
		case place == "" || strings.HasPrefix(strings.ToLower(place), "geo:"):
			place = "Location"
		case !strings.HasPrefix(strings.ToLower(place), "location"):
			place = "Location: " + place
		}
		return &Outgoing{Kind: OutText, Text: withQuote(reply, place+"\n"+osmLink(lat, lng))}, nil
	case event.MsgImage:
		return mediaOut(ctx, content, reply, dir, OutImage, "image", "image/jpeg")
	case event.MsgVideo:
		return mediaOut(ctx, content, reply, dir, OutVideo, "video", "video/mp4")
	case event.MsgFile:
		return mediaOut(ctx, content, reply, dir, OutFile, "file", "application/octet-stream")
	case event.MsgAudio:
		return mediaOut(ctx, content, reply, dir, OutFile, "audio", "audio/mpeg")
	case event.MessageType(event.CapMsgSticker):
		return mediaOut(ctx, content, reply, dir, OutImage, "sticker", "image/png")
	case "":
		return nil, unsupported("the message has no type")
	}
	return nil, unsupported(string(content.MsgType) + " messages cannot be sent to WeChat")
}

// withQuote prefixes text with the quote of the replied-to message.
func withQuote(reply *QuotedMessage, text string) string {
	if reply == nil {
		return text
	}
	quoted := strings.Join(strings.Fields(reply.Text), " ")
	if utf8.RuneCountInString(quoted) > maxQuoted {
		quoted = string([]rune(quoted)[:maxQuoted]) + "…"
	}
	name := strings.TrimSpace(reply.SenderName)
	if name == "" {
		name = "…"
	}
	return protoclient.FormatQuote(name, quoted, text)
}

// matrixText is the plain text of a message: no reply fallback, HTML
// turned into readable text (links as "text (url)", lists as "* item"), pills of
// members as WeChat's mentions.
func matrixText(ctx context.Context, content *event.MessageEventContent, dir Directory) string {
	c := *content // RemoveReplyFallback edits in place; the caller's event stays intact
	c.RemoveReplyFallback()
	text := c.Body
	if c.Format == event.FormatHTML && c.FormattedBody != "" {
		text = htmlToWeChat(ctx, c.FormattedBody, dir)
	}
	return strings.TrimRight(text, "\n ")
}

// htmlToWeChat renders Matrix HTML as WeChat text.
func htmlToWeChat(ctx context.Context, formatted string, dir Directory) string {
	var members []Member
	if dir != nil {
		members = dir.Members()
	}
	parser := &format.HTMLParser{
		TabsToSpaces:   4,
		Newline:        "\n",
		HorizontalLine: "\n---\n",
		// WeChat shows no formatting: "**bold**" would be asterisks to the reader.
		BoldConverter:      plainConverter,
		ItalicConverter:    plainConverter,
		UnderlineConverter: plainConverter,
		PillConverter: func(displayname, mxid, eventID string, fctx format.Context) string {
			if strings.HasPrefix(mxid, "@") && eventID == "" {
				for _, m := range members {
					if m.MXID == id.UserID(mxid) && m.DisplayName != "" {
						// WeChat's mention: @name and a four-per-em space (§5.4.3).
						return "@" + m.DisplayName + "\u2005"
					}
				}
			}
			return format.DefaultPillConverter(displayname, mxid, eventID, fctx)
		},
	}
	text := parser.Parse(formatted, format.NewContext(ctx))
	// Matrix clients put ": " or " " after a pill; WeChat's mention space already
	// separates the name from what follows.
	text = strings.ReplaceAll(text, "\u2005: ", "\u2005")
	text = strings.ReplaceAll(text, "\u2005 ", "\u2005")
	return text
}

func plainConverter(s string, _ format.Context) string { return s }

// mediaOut describes media to upload to WeChat.
func mediaOut(ctx context.Context, content *event.MessageEventContent, reply *QuotedMessage, dir Directory, kind OutgoingKind, base, fallbackMime string) (*Outgoing, error) {
	if content.URL == "" && content.File == nil {
		return nil, unsupported("the " + base + " has no media")
	}
	name := cleanFileName(content.FileName)
	caption := ""
	if name == "" {
		name = cleanFileName(content.Body)
	} else if body := strings.TrimSpace(content.Body); body != "" && body != content.FileName {
		// MSC2530: with a filename, body is a caption.
		caption = matrixText(ctx, &event.MessageEventContent{
			MsgType: event.MsgText, Body: content.Body, Format: content.Format, FormattedBody: content.FormattedBody,
		}, dir)
	}
	mimeType := ""
	if content.Info != nil {
		mimeType = baseMime(content.Info.MimeType)
	}
	if mimeType == "" {
		mimeType = mimeForExt(path.Ext(name))
	}
	if mimeType == "" {
		mimeType = fallbackMime
	}
	if name == "" {
		name = base
	}
	if path.Ext(name) == "" {
		name += extForMime(mimeType)
	}
	isGIF := mimeType == "image/gif" || strings.EqualFold(path.Ext(name), ".gif")
	switch {
	case kind == OutImage && isGIF:
		// A GIF sent as an image is a still on WeChat; as an emoticon it moves.
		kind = OutEmoticon
	case base == "sticker" && !strings.HasPrefix(mimeType, "image/"):
		return nil, unsupported("the sticker is not an image")
	}
	out := &Outgoing{Kind: kind, FileName: name, MimeType: mimeType}
	// A reply without a caption has nothing to quote above: the media goes alone rather
	// than with a second message that only says what it replied to.
	if caption != "" {
		out.Text = withQuote(reply, caption)
	}
	return out, nil
}
