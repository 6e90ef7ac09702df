package bridge

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/networkid"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

// The effects portal.ToMatrix / FromMatrix need, implemented over the WeChat session,
// the Matrix intent and the bridge database.

var (
	_ portal.WeChatMedia   = (*wechatMedia)(nil)
	_ portal.MatrixMedia   = (*matrixMedia)(nil)
	_ portal.Directory     = (*chatDirectory)(nil)
	_ portal.MessageFinder = (*chatDirectory)(nil)
)

// wechatMedia downloads the media of one WeChat message, capped at the configured size.
type wechatMedia struct {
	c  *WeChatClient
	ev *protoclient.Event
}

func (w *wechatMedia) Download(ctx context.Context, kind portal.MediaKind) (*portal.Media, error) {
	max := w.c.Main.Config.Media.MaxDownloadSize
	var m *protoclient.Media
	var err error
	switch kind {
	case portal.MediaImage:
		m, err = w.c.wx.DownloadImage(ctx, w.ev.Info.ID, protoclient.ImageFull, max)
	case portal.MediaThumb:
		m, err = w.c.wx.DownloadImage(ctx, w.ev.Info.ID, protoclient.ImageThumb, max)
	case portal.MediaEmoticon:
		m, err = w.c.wx.DownloadImage(ctx, w.ev.Info.ID, protoclient.ImageBig, max)
	case portal.MediaVoice:
		m, err = w.c.wx.DownloadVoice(ctx, w.ev.Info.ID, max)
	case portal.MediaVideo:
		m, err = w.c.wx.DownloadVideo(ctx, w.ev.Info.ID, max)
	case portal.MediaFile:
		f, ok := w.ev.Content.(*protoclient.File)
		if !ok {
			return nil, fmt.Errorf("message %s is not a file", w.ev.Info.ID)
		}
		m, err = w.c.wx.DownloadFile(ctx, f, max)
	}
	if err != nil {
		return nil, err
	}
	defer m.Body.Close()
	data, err := io.ReadAll(m.Body)
	if err != nil {
		return nil, err
	}
	return &portal.Media{Data: data, MimeType: m.ContentType, FileName: m.FileName}, nil
}

// matrixMedia uploads into one room (encrypted there when the room is).
type matrixMedia struct {
	intent bridgev2.MatrixAPI
	room   id.RoomID
}

func (m *matrixMedia) Upload(ctx context.Context, data []byte, fileName, mimeType string) (id.ContentURIString, *event.EncryptedFileInfo, error) {
	return m.intent.UploadMedia(ctx, m.room, data, fileName, mimeType)
}

// chatDirectory answers name and message lookups for one chat.
type chatDirectory struct {
	c      *WeChatClient
	chat   protoclient.UserName // session UserName of the chat
	portal *bridgev2.Portal
}

func (d *chatDirectory) Members() []portal.Member {
	c := d.c
	self := c.wx.SelfUserName()
	me := portal.Member{UserName: self, DisplayName: c.Login.RemoteName, MXID: c.Login.UserMXID, IsMe: true}
	if !protoclient.IsGroup(d.chat) {
		out := []portal.Member{me}
		if ct := c.dir.contact(d.chat); ct != nil {
			id, _ := c.dir.stableID(d.chat)
			out = append(out, portal.Member{UserName: d.chat, DisplayName: ct.NickName, MXID: c.ghostMXID(id)})
		}
		return out
	}
	ct := c.dir.contact(d.chat)
	if ct == nil {
		return []portal.Member{me}
	}
	out := make([]portal.Member, 0, len(ct.MemberList)+1)
	for _, m := range ct.MemberList {
		if m.UserName == self {
			if dn := m.DisplayName; dn != "" {
				me.DisplayName = dn
			}
			continue
		}
		name := m.DisplayName
		if name == "" {
			name = m.NickName
		}
		out = append(out, portal.Member{UserName: m.UserName, DisplayName: name, MXID: c.ghostMXID(c.dir.memberID(d.chat, m.UserName))})
	}
	return append(out, me)
}

func (d *chatDirectory) FindQuoted(ctx context.Context, senderName, quotedText string) *portal.Earlier {
	if d.portal == nil {
		return nil
	}
	msgID := d.c.recent.find(string(d.portal.ID), senderName, quotedText)
	if msgID == "" {
		return nil
	}
	return d.FindMessage(ctx, msgID)
}

func (d *chatDirectory) FindMessage(ctx context.Context, msgID string) *portal.Earlier {
	msg, err := d.c.Main.Bridge.DB.Message.GetFirstPartByID(ctx, d.c.Login.ID, portal.MakeMessageID(msgID))
	if err != nil || msg == nil {
		return nil
	}
	return &portal.Earlier{EventID: msg.MXID, SenderMXID: d.c.ghostMXIDOrMe(msg.SenderID), MessageID: msgID}
}

func (c *WeChatClient) ghostMXID(stableID protoclient.WxID) id.UserID {
	if stableID == "" {
		return ""
	}
	return c.Main.Bridge.Matrix.FormatGhostMXID(portal.MakeUserID(stableID))
}

func (c *WeChatClient) ghostMXIDOrMe(userID networkid.UserID) id.UserID {
	if c.IsThisUser(context.Background(), userID) {
		return c.Login.UserMXID
	}
	return c.Main.Bridge.Matrix.FormatGhostMXID(userID)
}

// recentTexts remembers the last texts of each chat by sender name: WeChat quotes carry
// only "Name: text", and this is what finds the message they quote.
type recentTexts struct {
	mu    sync.Mutex
	chats map[string][]recentText
}

type recentText struct {
	msgID   string
	senders []string // every name a quote may use: group nickname, nickname, remark
	text    string
}

const recentPerChat = 200

func (r *recentTexts) add(chat, msgID string, senders []string, text string) {
	if text == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.chats == nil {
		r.chats = map[string][]recentText{}
	}
	t := recentText{msgID: msgID, senders: senders, text: text}
	l := r.chats[chat]
	if len(l) < recentPerChat {
		r.chats[chat] = append(l, t)
		return
	}
	// A full chat shifts its window in place. Reslicing from the front instead kept every
	// dropped text reachable through the array until the next append reallocated it, so a
	// busy chat held up to a few hundred texts more than the window and reallocated it
	// every few dozen messages.
	copy(l, l[1:])
	l[len(l)-1] = t
}

func (r *recentTexts) find(chat, sender, quoted string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.chats[chat]
	quoted = strings.TrimSpace(quoted)
	for i := len(l) - 1; i >= 0; i-- {
		if slices.Contains(l[i].senders, sender) && (l[i].text == quoted || strings.HasPrefix(l[i].text, strings.TrimSuffix(quoted, "…"))) {
			return l[i].msgID
		}
	}
	return ""
}

func (r *recentTexts) byID(chat, msgID string) (recentText, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.chats[chat] {
		if t.msgID == msgID {
			return t, true
		}
	}
	return recentText{}, false
}

// convertIncoming runs portal.ToMatrix for one message inside the portal's event loop.
func (c *WeChatClient) convertIncoming(ctx context.Context, p *bridgev2.Portal, intent bridgev2.MatrixAPI, in *incoming) (*bridgev2.ConvertedMessage, error) {
	conv, err := portal.ToMatrix(ctx, in.ev,
		&wechatMedia{c: c, ev: in.ev},
		&matrixMedia{intent: intent, room: p.MXID},
		&chatDirectory{c: c, chat: in.ev.Info.Chat, portal: p},
		portal.Options{MaxFileSize: c.Main.Config.Media.MaxDownloadSize, Lead: in.lead})
	if err != nil {
		return nil, err
	}
	if len(conv.Parts) == 0 {
		return nil, bridgev2.ErrIgnoringRemoteEvent
	}
	if c.replayCheck.Load() {
		if done := c.alreadyBridged(ctx, p, in); done {
			return nil, bridgev2.ErrIgnoringRemoteEvent
		}
	}
	out := &bridgev2.ConvertedMessage{}
	if conv.ReplyTo != nil {
		out.ReplyTo = &networkid.MessageOptionalPartID{MessageID: portal.MakeMessageID(conv.ReplyTo.MessageID)}
	}
	for i, content := range conv.Parts {
		part := &bridgev2.ConvertedMessagePart{Type: event.EventMessage, Content: content,
			Extra: map[string]any{wechatMsgIDKey: in.ev.Info.ID}}
		if i == 0 && conv.Sticker {
			part.Type = event.EventSticker
		}
		if i > 0 {
			part.ID = networkid.PartID(strconv.Itoa(i))
		}
		out.Parts = append(out.Parts, part)
	}
	if in.derivedID {
		if meta, ok := p.Metadata.(*PortalMetadata); ok && !meta.DerivedIDNoticeSent {
			meta.DerivedIDNoticeSent = true
			out.Parts = append(out.Parts, &bridgev2.ConvertedMessagePart{
				ID:   "derived-id-notice",
				Type: event.EventMessage,
				Content: &event.MessageEventContent{MsgType: event.MsgNotice, Body: "WeChat did not show a permanent id for this chat, " +
					"so the bridge cannot be sure it is the same as an earlier one: if you already have a room with them, " +
					"this room is new rather than a guess that could put messages in the wrong room."},
			})
			if err := p.Save(ctx); err != nil {
				zerolog.Ctx(ctx).Warn().Err(err).Msg("Saving the portal's derived-id notice flag failed")
			}
		}
	}
	// What a later quote may point at: the text as the phone quotes it, for a reply
	// its own text without the quote.
	switch x := in.ev.Content.(type) {
	case *protoclient.Text:
		c.recent.add(string(p.ID), in.ev.Info.ID, in.senderNames, x.Text)
	case *protoclient.Reply:
		c.recent.add(string(p.ID), in.ev.Info.ID, in.senderNames, x.Text)
	}
	return out, nil
}
