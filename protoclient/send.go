package protoclient

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"path"
	"strconv"
	"strings"
	"time"
)

// SendResult is the server's answer to a send: MsgID is the id the message has on the
// server (needed to revoke it, and what its echo in webwxsync carries as MsgId).
type SendResult struct {
	MsgID   string
	LocalID string
}

// sendRetries bounds how often one send is tried again after a failure that may be
// transient. Every try carries the same ClientMsgId, which the server treats as one
// message, so a retry after a lost answer cannot send twice.
const sendRetries = 3

var sendRetryBase = 500 * time.Millisecond

// NewClientMsgID returns a LocalID/ClientMsgId in the official format: 13-digit
// milliseconds followed by 4 random digits (§4.7). Callers keep it with the message so
// that a retried send reuses it.
func NewClientMsgID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(10000))
	if err != nil {
		n = big.NewInt(time.Now().UnixNano() % 10000)
	}
	return fmt.Sprintf("%d%04d", time.Now().UnixMilli(), n.Int64())
}

// ClientMsgIDFor is a ClientMsgId in the official format made from the time a message was
// written and a key that names it (a Matrix event id): the same message always gets the
// same id, so sending it again, even from another process, is the same message to WeChat.
func ClientMsgIDFor(at time.Time, key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return fmt.Sprintf("%d%04d", at.UnixMilli(), h.Sum32()%10000)
}

func (c *Client) send(ctx context.Context, endpoint string, q query, msg SendMsg) (*SendResult, error) {
	if err := c.requireLogin(); err != nil {
		return nil, err
	}
	if msg.ClientMsgId == "" {
		return nil, errors.New("protoclient: send without ClientMsgId")
	}
	if q == nil {
		q = query{}
	}
	q.Set("lang", "zh_CN")
	q.Set("pass_ticket", c.passTicket())
	msg.FromUserName = c.SelfUserName()
	msg.LocalID = msg.ClientMsgId
	var lastErr error
	for attempt := 0; attempt <= sendRetries; attempt++ {
		if attempt > 0 {
			wait := sendRetryBase << (attempt - 1)
			var ae *APIError
			if errors.As(lastErr, &ae) && ae.RateLimited() {
				wait *= 4
			}
			logger(ctx).Warn().Err(lastErr).Str("endpoint", endpoint).Int("attempt", attempt).
				Str("client_msg_id", string(msg.ClientMsgId)).Dur("retry_in", wait).Msg("wechat send failed, retrying")
			if err := sleepCtx(ctx, wait); err != nil {
				return nil, lastErr
			}
		}
		var res SendResponse
		err := c.postJSON(ctx, roleWeb, endpoint, q, SendRequest{BaseRequest: c.baseRequest(), Msg: msg}, &res)
		if err == nil {
			if res.MsgID == "" {
				return nil, fmt.Errorf("%w: %s answered without MsgID", ErrMalformed, endpoint)
			}
			return &SendResult{MsgID: res.MsgID, LocalID: res.LocalID}, nil
		}
		lastErr = err
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// retryable: no answer at all, a server error, or rate limiting. Anything the server
// decided (Ret != 0, logout) is final.
func retryable(err error) bool {
	var te *TransportError
	var he *HTTPError
	var ae *APIError
	switch {
	case errors.As(err, &te):
		return true
	case errors.As(err, &he):
		return he.StatusCode >= 500
	case errors.As(err, &ae):
		return ae.RateLimited()
	}
	return false
}

// SendText sends plain text (newlines as \n, emoji as Unicode, WeChat faces as [微笑]).
func (c *Client) SendText(ctx context.Context, to UserName, text, clientMsgID string) (*SendResult, error) {
	return c.send(ctx, "webwxsendmsg", nil, SendMsg{Type: int(MsgText), Content: text, ToUserName: to, ClientMsgId: FlexString(clientMsgID)})
}

func asyncQuery() query {
	q := query{}
	q.Set("fun", "async")
	q.Set("f", "json")
	return q
}

// SendImage sends an uploaded image.
func (c *Client) SendImage(ctx context.Context, to UserName, mediaID, clientMsgID string) (*SendResult, error) {
	return c.send(ctx, "webwxsendmsgimg", asyncQuery(), SendMsg{Type: int(MsgImage), MediaId: mediaID, ToUserName: to, ClientMsgId: FlexString(clientMsgID)})
}

// SendVideo sends an uploaded mp4 video.
func (c *Client) SendVideo(ctx context.Context, to UserName, mediaID, clientMsgID string) (*SendResult, error) {
	return c.send(ctx, "webwxsendvideomsg", asyncQuery(), SendMsg{Type: int(MsgVideo), MediaId: mediaID, ToUserName: to, ClientMsgId: FlexString(clientMsgID)})
}

// FileInfo describes an uploaded attachment for SendFile.
type FileInfo struct {
	Name      string
	Size      int64
	MediaID   string
	Signature string // from webwxcheckupload, for big files
}

// SendFile sends an uploaded attachment as an app message of type 6 (§4.10).
func (c *Client) SendFile(ctx context.Context, to UserName, f FileInfo, clientMsgID string) (*SendResult, error) {
	q := asyncQuery()
	appID := "wxeb7ec651dd0aefa9"
	if !c.opts.NormalMode {
		// mod comes after the parameters send adds (§4.10's URL); send sets those in place.
		q.Set("lang", "zh_CN")
		q.Set("pass_ticket", c.passTicket())
		q.Set("mod", "desktop")
		appID = ""
	}
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(f.Name)), ".")
	content := "<appmsg appid='" + appID + "' sdkver=''><title>" + xmlEscape(f.Name) + "</title><des></des><action></action><type>6</type><content></content><url></url><lowurl></lowurl><appattach><totallen>" +
		strconv.FormatInt(f.Size, 10) + "</totallen><attachid>" + xmlEscape(f.MediaID) + "</attachid><fileext>" + xmlEscape(ext) + "</fileext></appattach><extinfo></extinfo></appmsg>"
	return c.send(ctx, "webwxsendappmsg", q, SendMsg{Type: int(AppMsgAttach), Content: content, ToUserName: to, Signature: f.Signature, ClientMsgId: FlexString(clientMsgID)})
}

// SendEmoticon sends a sticker: an uploaded GIF (mediaID) or a known sticker's md5.
func (c *Client) SendEmoticon(ctx context.Context, to UserName, mediaID, md5, clientMsgID string) (*SendResult, error) {
	q := query{}
	q.Set("fun", "sys")
	return c.send(ctx, "webwxsendemoticon", q, SendMsg{Type: int(MsgEmoticon), EmojiFlag: EmojiFlagGIF, MediaId: mediaID, EMoticonMd5: md5, ToUserName: to, ClientMsgId: FlexString(clientMsgID)})
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;")

func xmlEscape(s string) string { return xmlEscaper.Replace(s) }
