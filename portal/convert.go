package portal

import (
	"context"

	"wxbridge/protoclient"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// The conversion entry points take their few effects (fetching WeChat media, uploading
// to Matrix, looking up names and earlier messages) as interfaces, so the conversion
// itself stays pure and is tested with fakes; bridge/ implements them.

// MediaKind says which bytes of a WeChat message to fetch.
type MediaKind int

const (
	MediaImage    MediaKind = iota // webwxgetmsgimg, full size
	MediaThumb                     // webwxgetmsgimg type=slave (image/video/link thumbnails)
	MediaEmoticon                  // webwxgetmsgimg type=big
	MediaVoice                     // webwxgetvoice (mp3)
	MediaVideo                     // webwxgetvideo
	MediaFile                      // webwxgetmedia (attachments)
)

// Media is downloaded WeChat media.
type Media struct {
	Data     []byte
	MimeType string // as the server said; may be wrong or empty (WeChat sends GIFs as image/jpeg)
	FileName string
}

// WeChatMedia fetches the media of the message being converted. It returns a
// *protoclient.TooLargeError when the media is over the configured limit.
type WeChatMedia interface {
	Download(ctx context.Context, kind MediaKind) (*Media, error)
}

// MatrixMedia uploads to the Matrix media repository (encrypting in encrypted rooms).
type MatrixMedia interface {
	Upload(ctx context.Context, data []byte, fileName, mimeType string) (id.ContentURIString, *event.EncryptedFileInfo, error)
}

// Member is a person the conversion may mention or quote.
type Member struct {
	UserName    protoclient.UserName // session UserName
	DisplayName string               // what WeChat shows in this chat (group nickname, else nickname)
	MXID        id.UserID            // the Matrix user (ghost, or the logged-in user)
	IsMe        bool                 // the logged-in account
}

// Earlier is a message bridged before, that a quote may point at.
type Earlier struct {
	EventID    id.EventID
	SenderMXID id.UserID
	MessageID  string // WeChat MsgId
}

// Directory answers the lookups conversion needs about the chat being converted.
type Directory interface {
	// Members of the chat (for a DM: the other person and me).
	Members() []Member
	// FindQuoted finds the latest bridged message of the chat sent by someone shown as
	// senderName whose text starts with or equals quotedText; nil if none.
	FindQuoted(ctx context.Context, senderName, quotedText string) *Earlier
}

// Converted is the Matrix side of one WeChat message: usually one part; a media message
// with a caption can have two.
type Converted struct {
	Parts   []*event.MessageEventContent
	ReplyTo *Earlier // set when a WeChat quote matched a bridged message
	Sticker bool     // Parts[0] is an m.sticker event rather than m.room.message
}

// OutgoingKind is what a Matrix message becomes on WeChat.
type OutgoingKind int

const (
	OutText     OutgoingKind = iota // webwxsendmsg
	OutImage                        // upload + webwxsendmsgimg
	OutVideo                        // upload + webwxsendvideomsg
	OutFile                         // upload + webwxsendappmsg (type 6)
	OutEmoticon                     // upload + webwxsendemoticon
)

// Outgoing is a Matrix message ready to send: Text for OutText, otherwise the media to
// upload (the bridge downloads Matrix media and fills Data before sending). For media,
// a non-empty Text is the caption, to send as a text message after the media (WeChat
// media has no caption).
type Outgoing struct {
	Kind     OutgoingKind
	Text     string
	FileName string
	MimeType string
	Data     []byte
}

// Options are the settings conversion honours.
type Options struct {
	// MaxFileSize: media over it becomes a notice with the name and size.
	MaxFileSize int64
	// Lead names who a message is from, for a room where several WeChat chats arrive
	// under one Matrix sender (the official accounts' room): the message is led by it in
	// bold, and media by a line of its own.
	Lead string
}

// QuotedMessage describes the Matrix message a reply points at, for the WeChat-style
// quote text (§5.4.6).
type QuotedMessage struct {
	SenderName string
	Text       string
}

// The entry points, implemented in tomatrix.go and frommatrix.go (with the helper
// FriendRequestNotice for the requests the bridge announces itself):
//
//	func ToMatrix(ctx context.Context, ev *protoclient.Event, media WeChatMedia,
//		up MatrixMedia, dir Directory, opts Options) (*Converted, error)
//	func FromMatrix(ctx context.Context, content *event.MessageEventContent, reply *QuotedMessage,
//		dir Directory) (*Outgoing, error)
