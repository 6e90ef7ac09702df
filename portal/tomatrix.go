package portal

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// MessageFinder is an optional extension of Directory: a structured reply (AppMsgType 57)
// names the quoted message by its MsgId, which finds it exactly where FindQuoted has to
// guess from a name and a text. A Directory that implements it is asked first.
type MessageFinder interface {
	FindMessage(ctx context.Context, msgID string) *Earlier
}

// ToMatrix converts one WeChat message to Matrix content. body is the message's Content
// without the group sender prefix (protoclient.MessageInfo.Body), msg the whole message
// for its other fields. media fetches the message's media, up stores it on Matrix, dir
// answers who is in the chat and which earlier message a quote points at; media, up and
// dir may be nil when the message has no use for them.
//
// What the bridge does itself, before calling ToMatrix:
//   - a revoke (10002) is a redaction: RevokedMsgID gives the MsgId to redact; only when
//     it says !ok is the message passed here, and becomes a notice with what WeChat said;
//   - a friend request (37) goes to the management room: FriendRequestNotice;
//   - membership and name changes come from ModContactList; the system text (10000)
//     that announces them is still passed here and becomes a notice.
//
// The result has no Parts for what is not a chat message at all (status notify 51,
// SYSNOTICE 9999, friend suggestions 40): the bridge sends nothing for those. Anything
// else that cannot be shown becomes a notice saying what arrived — never silence.
//
// Content is untrusted, so conversion does not fail on it: broken XML, a failed or
// oversized download, a failed thumbnail all become notices or are left out. The error
// is only for ctx being done or a Matrix upload failing, which the bridge retries.
func ToMatrix(ctx context.Context, msg *protoclient.Message, body string, media WeChatMedia, up MatrixMedia, dir Directory, opts Options) (conv *Converted, err error) {
	// The converters are fuzzed not to panic; this is the last line of defence, because a
	// panic here would take the whole sync loop, and every later message, with it.
	defer func() {
		if p := recover(); p != nil {
			conv, err = single(cannotShow(msgTypeOf(msg), "conversion failed")), nil
		}
	}()
	return toMatrix(ctx, msg, body, media, up, dir, opts)
}

func msgTypeOf(msg *protoclient.Message) protoclient.MsgType {
	if msg == nil {
		return 0
	}
	return msg.MsgType
}

// converter carries one conversion's inputs.
type converter struct {
	ctx   context.Context
	msg   *protoclient.Message
	body  string
	media WeChatMedia
	up    MatrixMedia
	dir   Directory
	opts  Options
}

func toMatrix(ctx context.Context, msg *protoclient.Message, body string, media WeChatMedia, up MatrixMedia, dir Directory, opts Options) (*Converted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if msg == nil {
		return single(cannotShow(0, "the message was empty")), nil
	}
	c := &converter{ctx: ctx, msg: msg, body: body, media: media, up: up, dir: dir, opts: opts}
	switch msg.MsgType {
	case protoclient.MsgText:
		if msg.SubMsgType == protoclient.SubMsgTypeLocation {
			return c.location()
		}
		return c.text()
	case protoclient.MsgLocation:
		return c.location()
	case protoclient.MsgImage:
		return c.image()
	case protoclient.MsgVoice:
		return c.voice()
	case protoclient.MsgVideo, protoclient.MsgMicroVideo:
		return c.video()
	case protoclient.MsgEmoticon:
		return c.sticker()
	case protoclient.MsgApp:
		return c.app()
	case protoclient.MsgShareCard:
		return single(c.card()), nil
	case protoclient.MsgSys:
		return single(c.system()), nil
	case protoclient.MsgRecalled:
		return single(c.revoke()), nil
	case protoclient.MsgVerify:
		// The bridge routes requests to the management room; shown here, in the chat
		// of fmessage, it still says what arrived and how to accept it.
		content, _ := FriendRequestNotice(msg, body)
		return single(content), nil
	case protoclient.MsgStatusNotify, protoclient.MsgSysNotice, protoclient.MsgPossibleFriend:
		return &Converted{}, nil
	case protoclient.MsgVoip, protoclient.MsgVoipNotify, protoclient.MsgVoipInvite:
		return single(phoneNotice("Call", "calls cannot be bridged; open WeChat on your phone")), nil
	}
	return single(phoneNotice(KindName(msg.MsgType, msg.AppMsgType), "")), nil
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

func (c *converter) text() (*Converted, error) {
	if q, ok := protoclient.ParseQuote(c.body); ok {
		return c.quoteReply(q.Name, q.Quoted, q.Reply, "")
	}
	var r rich
	r.writeWeChatText(protoclient.DecodeText(c.body), c.members)
	return single(r.content(event.MsgText)), nil
}

// quoteReply converts a reply quoting name's text (all decoded). When the quoted
// message is a bridged one it becomes a Matrix reply, whose body is only the reply;
// otherwise the quote is kept as a quote block above the reply, so nothing is lost.
func (c *converter) quoteReply(name, quoted, reply, quotedMsgID string) (*Converted, error) {
	var earlier *Earlier
	if c.dir != nil {
		if f, ok := c.dir.(MessageFinder); ok && quotedMsgID != "" {
			earlier = f.FindMessage(c.ctx, quotedMsgID)
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
	r.writeWeChatText(reply, c.members)
	return &Converted{Parts: []*event.MessageEventContent{r.content(event.MsgText)}, ReplyTo: earlier}, nil
}

// ---------------------------------------------------------------------------------------
// Contact cards (42)

func (c *converter) card() *event.MessageEventContent {
	card, err := protoclient.ParseCard(c.body)
	name, wxID := "", ""
	if err == nil {
		name = protoclient.DecodeName(card.NickName)
		wxID = card.Alias
		// An encrypted v1_…@stranger name means nothing to a person.
		if wxID == "" && !strings.HasPrefix(card.UserName, "v1_") {
			wxID = card.UserName
		}
	}
	if name == "" {
		name = protoclient.DecodeName(c.msg.RecommendInfo.NickName)
	}
	if wxID == "" {
		wxID = c.msg.RecommendInfo.Alias
	}
	if name == "" && wxID == "" {
		return cannotShow(protoclient.MsgShareCard, "the card could not be read")
	}
	text := "Contact card: " + name
	if name == "" {
		text = "Contact card:"
	}
	if wxID != "" {
		text += " (WeChat ID: " + wxID + ")"
	}
	return notice(text)
}

// ---------------------------------------------------------------------------------------
// Revokes (10002)

// RevokedMsgID returns the MsgId of the message a revoke (MsgType 10002) takes back, for
// the bridge to redact. ok is false when the content is not a revoke, and for msgid 0
// ("the sender's last message", which needs the bridge's own history to resolve): the
// bridge then passes the message to ToMatrix, which shows WeChat's text as a notice.
func RevokedMsgID(body string) (msgID string, ok bool) {
	r, err := protoclient.ParseRevoke(body)
	if err != nil || strings.Trim(r.MsgID, "0") == "" {
		return "", false
	}
	return r.MsgID, true
}

func (c *converter) revoke() *event.MessageEventContent {
	if r, err := protoclient.ParseRevoke(c.body); err == nil && r.ReplaceMsg != "" {
		return notice(protoclient.DecodeText(r.ReplaceMsg))
	}
	return notice("[A message was recalled]")
}

// ---------------------------------------------------------------------------------------
// Friend requests (37)

// AcceptFriendCommand is the management-room command that accepts a friend request:
// `accept-friend <FriendRequest.ID>`. The bridge registers its command under this name
// so the notice and the command agree.
const AcceptFriendCommand = "accept-friend"

// FriendRequest is what accepting a friend request takes (webwxverifyuser Opcode 3,
// §4.17) and what identifies it.
type FriendRequest struct {
	// ID is what the accept command takes: the requester's permanent wxid when the XML
	// gives it, else the request's MsgId.
	ID string
	// UserName and Ticket are the VerifyUserList Value and VerifyUserTicket. UserName is
	// a session name: a request must be accepted in the session that received it.
	UserName protoclient.UserName
	Ticket   string
	// WxID is the requester's permanent id (XML fromusername), EncryptUserName their
	// v1_…@stranger name.
	WxID            string
	EncryptUserName string
	NickName        string
	Alias           string
	Greeting        string
	// ChatRoom is the permanent id of the group the requester found the user in.
	ChatRoom string
	MsgID    string
}

// CanAccept reports whether the request carries what webwxverifyuser needs.
func (f FriendRequest) CanAccept() bool { return f.UserName != "" && f.Ticket != "" }

// FriendRequestNotice turns a friend request (MsgType 37; body its Content) into the
// management room's notice and the data to accept it. It never fails: what the XML
// lacks is taken from RecommendInfo, and a request that cannot be accepted from Matrix
// says to use the phone.
func FriendRequestNotice(msg *protoclient.Message, body string) (content *event.MessageEventContent, ticket FriendRequest) {
	if msg == nil {
		return notice("[Friend request — open WeChat on your phone to see it]"), FriendRequest{}
	}
	ri := msg.RecommendInfo
	ticket = FriendRequest{
		UserName: ri.UserName,
		Ticket:   ri.Ticket,
		NickName: protoclient.DecodeName(ri.NickName),
		Alias:    ri.Alias,
		Greeting: protoclient.DecodeText(ri.Content),
		MsgID:    msg.MsgId,
	}
	if x, err := protoclient.ParseFriendRequest(body); err == nil {
		ticket.WxID = x.FromUserName
		ticket.EncryptUserName = x.EncryptUserName
		ticket.ChatRoom = x.ChatRoomUserName
		if ticket.Ticket == "" {
			ticket.Ticket = x.Ticket
		}
		if ticket.NickName == "" {
			ticket.NickName = protoclient.DecodeName(x.FromNickName)
		}
		if ticket.Alias == "" {
			ticket.Alias = x.Alias
		}
		if ticket.Greeting == "" {
			ticket.Greeting = protoclient.DecodeText(x.Content)
		}
	}
	ticket.ID = ticket.WxID
	if ticket.ID == "" {
		ticket.ID = msg.MsgId
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
		r.text(" (WeChat ID: " + ticket.WxID + ")")
	}
	r.text(" wants to add you as a WeChat contact.")
	if ticket.Greeting != "" {
		r.text("\nMessage: " + ticket.Greeting)
	}
	if ticket.ChatRoom != "" {
		r.text("\nThey found you in the group " + ticket.ChatRoom + ".")
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
