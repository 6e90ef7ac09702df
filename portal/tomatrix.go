package portal

import (
	"context"
	"fmt"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// MessageFinder is an optional extension of Directory: a structured reply (AppMsgType 57)
// names the quoted message by its MsgId, which finds it exactly where FindQuoted has to
// guess from a name and a text. A Directory that implements it is asked first.
type MessageFinder interface {
	FindMessage(ctx context.Context, msgID string) *Earlier
}

// ToMatrix converts one decoded WeChat message to Matrix content. media fetches the
// message's media, up stores it on Matrix, dir answers who is in the chat and which
// earlier message a quote points at; media, up and dir may be nil when the message has
// no use for them.
//
// What the bridge does itself, before calling ToMatrix:
//   - a *protoclient.Revoke naming its message is a redaction; only one that names none
//     is passed here, and becomes a notice with what WeChat said;
//   - a *protoclient.FriendRequest goes to the management room: FriendRequestNotice;
//   - membership and name changes come from ModContactList; the system text that
//     announces them is still passed here and becomes a notice.
//
// The result has no Parts for what is not a chat message at all (*protoclient.PhoneState,
// *protoclient.IDList): the bridge sends nothing for those. Anything else that cannot be
// shown becomes a notice saying what arrived — never silence.
//
// Conversion does not fail on content: a failed or oversized download or a failed
// thumbnail become notices or are left out. The error is only for ctx being done or a
// Matrix upload failing, which the bridge retries.
func ToMatrix(ctx context.Context, ev *protoclient.Event, media WeChatMedia, up MatrixMedia, dir Directory, opts Options) (conv *Converted, err error) {
	// The converters are fuzzed not to panic; this is the last line of defence, because a
	// panic here would take the whole sync loop, and every later message, with it.
	defer func() {
		if p := recover(); p != nil {
			conv, err = single(cannotShow(msgTypeOf(ev), "conversion failed")), nil
		}
	}()
	return toMatrix(ctx, ev, media, up, dir, opts)
}

func msgTypeOf(ev *protoclient.Event) protoclient.MsgType {
	if ev == nil {
		return 0
	}
	return ev.Info.Type
}

// converter carries one conversion's inputs.
type converter struct {
	ctx   context.Context
	ev    *protoclient.Event
	media WeChatMedia
	up    MatrixMedia
	dir   Directory
	opts  Options
}

func toMatrix(ctx context.Context, ev *protoclient.Event, media WeChatMedia, up MatrixMedia, dir Directory, opts Options) (*Converted, error) {
	conv, err := convert(ctx, ev, media, up, dir, opts)
	if err == nil && opts.Lead != "" {
		lead(conv, opts.Lead)
	}
	return conv, err
}

// lead puts the sender's name before a message: at the start of a text, or as a line
// before media and stickers, which have no text of their own to carry it.
func lead(conv *Converted, name string) {
	if len(conv.Parts) == 0 {
		return
	}
	first := conv.Parts[0]
	switch {
	case conv.Sticker || first.MsgType.IsMedia():
		var r rich
		r.markup(name, "<b>"+escapeHTML(name)+"</b>")
		conv.Parts = append([]*event.MessageEventContent{r.content(event.MsgText)}, conv.Parts...)
	default:
		first.EnsureHasHTML()
		first.Body = name + ": " + first.Body
		first.FormattedBody = "<b>" + escapeHTML(name) + "</b>: " + first.FormattedBody
	}
}

func convert(ctx context.Context, ev *protoclient.Event, media WeChatMedia, up MatrixMedia, dir Directory, opts Options) (*Converted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ev == nil || ev.Content == nil {
		return single(cannotShow(0, "the message was empty")), nil
	}
	c := &converter{ctx: ctx, ev: ev, media: media, up: up, dir: dir, opts: opts}
	switch x := ev.Content.(type) {
	case *protoclient.Text:
		var r rich
		r.writeWeChatText(x.Text, c.members)
		return single(r.content(event.MsgText)), nil
	case *protoclient.Reply:
		return c.quoteReply(x)
	case *protoclient.Location:
		return single(locationNotice(x)), nil
	case *protoclient.Image:
		return c.image(x)
	case *protoclient.Voice:
		return c.voice(x)
	case *protoclient.Video:
		return c.video(x)
	case *protoclient.Sticker:
		return c.sticker(x)
	case *protoclient.File:
		return c.file(x)
	case *protoclient.Link:
		return single(linkCard(x)), nil
	case *protoclient.App:
		return single(appNotice(x)), nil
	case *protoclient.Card:
		return single(cardNotice(x)), nil
	case *protoclient.System:
		return single(systemNotice(x)), nil
	case *protoclient.Revoke:
		if x.Text != "" {
			return single(notice(x.Text)), nil
		}
		return single(notice("[A message was recalled]")), nil
	case *protoclient.FriendRequest:
		// The bridge routes requests to the management room; shown here, in the chat
		// of fmessage, it still says what arrived and how to accept it.
		content, _ := FriendRequestNotice(ev.Info, x)
		return single(content), nil
	case *protoclient.PhoneState, *protoclient.IDList:
		return &Converted{}, nil
	case *protoclient.Call:
		return single(phoneNotice("Call", "calls cannot be bridged; open WeChat on your phone")), nil
	case *protoclient.Undecodable:
		return single(cannotShow(x.Type, x.Reason)), nil
	case *protoclient.Unsupported:
		return single(phoneNotice(KindName(x.Type, x.AppType), "")), nil
	}
	return single(phoneNotice(KindName(ev.Info.Type, -1), "")), nil
}

func single(c *event.MessageEventContent) *Converted {
	return &Converted{Parts: []*event.MessageEventContent{c}}
}

// phoneNotice is the notice for what the bridge cannot show: "[What — what to do]".
// hint defaults to looking at the phone.
func phoneNotice(what, hint string) *event.MessageEventContent {
	if hint == "" {
		hint = "open WeChat on your phone to see it"
	}
	return notice("[" + what + " — " + hint + "]")
}

// cannotShow is the notice for content that should have been understood and was not.
func cannotShow(msgType protoclient.MsgType, why string) *event.MessageEventContent {
	what := "A message"
	if msgType != 0 {
		what = "A message (" + KindName(msgType, -1) + ")"
	}
	return notice("[" + what + " could not be shown: " + why + " — open WeChat on your phone to see it]")
}

// notice is a grey notice with empty m.mentions (it mentions nobody).
func notice(text string) *event.MessageEventContent {
	return &event.MessageEventContent{MsgType: event.MsgNotice, Body: text, Mentions: &event.Mentions{}}
}

func (c *converter) members() []Member {
	if c.dir == nil {
		return nil
	}
	return c.dir.Members()
}

// ---------------------------------------------------------------------------------------
// Text (1) and quotes (§5.4.6)

// quoteReply converts a reply. When the quoted message is a bridged one it becomes a
// Matrix reply, whose body is only the reply; otherwise the quote is kept as a quote
// block above the reply, so nothing is lost.
func (c *converter) quoteReply(q *protoclient.Reply) (*Converted, error) {
	name, quoted := q.Name, quotedText(q)
	var earlier *Earlier
	if c.dir != nil {
		if f, ok := c.dir.(MessageFinder); ok && q.QuotedMsgID != "" {
			earlier = f.FindMessage(c.ctx, q.QuotedMsgID)
		}
		if earlier == nil {
			earlier = c.dir.FindQuoted(c.ctx, name, quoted)
		}
	}
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	var r rich
	if earlier == nil {
		r.writeQuoteBlock(name, quoted)
	} else if earlier.SenderMXID != "" {
		// A Matrix reply mentions the author of the replied-to message, so that they
		// are notified as on WeChat.
		r.mentions.Add(earlier.SenderMXID)
	}
	r.writeWeChatText(q.Text, c.members)
	return &Converted{Parts: []*event.MessageEventContent{r.content(event.MsgText)}, ReplyTo: earlier}, nil
}

// ---------------------------------------------------------------------------------------
// Contact cards (42)

func cardNotice(card *protoclient.Card) *event.MessageEventContent {
	text := "Contact card: " + card.Name
	if card.Name == "" {
		text = "Contact card:"
	}
	if card.WeChatID != "" {
		text += " (WeChat ID: " + card.WeChatID + ")"
	}
	return notice(text)
}

// ---------------------------------------------------------------------------------------
// Friend requests (37)

// AcceptFriendCommand is the management-room command that accepts a friend request:
// `accept-friend <FriendRequest.ID>`. The bridge registers its command under this name
// so the notice and the command agree.
const AcceptFriendCommand = "accept-friend"

// FriendRequest is a friend request with the id the accept command takes: the
// requester's permanent wxid when WeChat gave it, else the request's MsgId.
type FriendRequest struct {
	ID string
	protoclient.FriendRequest
}

// FriendRequestNotice turns a friend request into the management room's notice and the
// request to remember. It never fails: a request that cannot be accepted from Matrix
// says to use the phone.
func FriendRequestNotice(info protoclient.MessageInfo, req *protoclient.FriendRequest) (content *event.MessageEventContent, ticket FriendRequest) {
	if req == nil {
		return notice("[Friend request — open WeChat on your phone to see it]"), FriendRequest{}
	}
	ticket = FriendRequest{ID: string(req.WxID), FriendRequest: *req}
	if ticket.ID == "" {
		ticket.ID = info.ID
	}

	var r rich
	who := ticket.NickName
	if who == "" {
		who = "Someone"
	}
	r.markup(who, "<b>"+escapeHTML(who)+"</b>")
	if id := ticket.Alias; id != "" {
		r.text(" (WeChat ID: " + id + ")")
	} else if ticket.WxID != "" {
		r.text(" (WeChat ID: " + string(ticket.WxID) + ")")
	}
	r.text(" wants to add you as a WeChat contact.")
	if ticket.Greeting != "" {
		r.text("\nMessage: " + ticket.Greeting)
	}
	if ticket.ChatRoom != "" {
		r.text("\nThey found you in the group " + string(ticket.ChatRoom) + ".")
	}
	if ticket.CanAccept() && ticket.ID != "" {
		cmd := AcceptFriendCommand + " " + ticket.ID
		r.text("\nTo accept, send: ")
		r.markup(cmd, "<code>"+escapeHTML(cmd)+"</code>")
	} else {
		r.text("\nThis request cannot be accepted from here; open WeChat on your phone to accept it.")
	}
	return r.content(event.MsgNotice), ticket
}

// ---------------------------------------------------------------------------------------
// Sizes

// humanSize formats a byte count for people: 1024 → "1.0 KiB".
func humanSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	v := float64(n) / 1024
	u := 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return fmt.Sprintf("%.1f %s", v, units[u])
}
