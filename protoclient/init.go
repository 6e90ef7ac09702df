package protoclient

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Init runs webwxinit: it returns the account (User), recent chats and the server's
// SyncKey, and refreshes the session's UserName and skey. A stored SyncKey is kept when
// there is one: webwxinit's key can be behind what was already processed, and taking it
// would deliver the last messages again (§7.3).
func (c *Client) Init(ctx context.Context) (*InitResponse, error) {
	if err := c.requireLogin(); err != nil {
		return nil, err
	}
	q := query{}
	q.Set("r", negR())
	q.Set("lang", "zh_CN")
	q.Set("pass_ticket", c.passTicket())
	var res InitResponse
	if err := c.postJSON(ctx, roleWeb, "webwxinit", q, struct {
		BaseRequest BaseRequest `json:"BaseRequest"`
	}{c.baseRequest()}, &res); err != nil {
		return nil, err
	}
	decodeNames(res.ContactList)
	res.User.decodeNames()
	c.mu.Lock()
	c.sess.UserName = res.User.UserName
	c.sess.NickName = res.User.NickName
	if res.User.Uin != 0 {
		c.sess.Uin = int64(res.User.Uin)
	}
	if res.SKey != "" {
		c.sess.Skey = res.SKey
	}
	if !c.sess.SyncKey.Valid() && res.SyncKey.Valid() {
		c.sess.SyncKey = res.SyncKey.Normalized()
		c.sess.SyncCheckKey = nil
	}
	c.mu.Unlock()
	return &res, nil
}

// ChatSetNames splits webwxinit's ChatSet ("filehelper,@…,@@…,") into UserNames.
func (r *InitResponse) ChatSetNames() []UserName {
	var out []UserName
	for _, n := range strings.Split(r.ChatSet, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, UserName(n))
		}
	}
	return out
}

// Resume continues a restored session without a QR scan: webwxinit with the stored
// credentials (keeping the stored SyncKey) and webwxstatusnotify. A dead server session
// comes back as *LoggedOutError; then try PushLogin.
func (c *Client) Resume(ctx context.Context) (*InitResponse, error) {
	res, err := c.Init(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.StatusNotify(ctx, StatusNotifyInited, c.SelfUserName()); err != nil {
		logger(ctx).Warn().Err(err).Msg("webwxstatusnotify after resume failed")
	}
	return res, nil
}

// StatusNotify sends webwxstatusnotify: Code 3 (inited) to self after login, Code 1
// (read) with the peer to mark a chat read on the phone.
func (c *Client) StatusNotify(ctx context.Context, code int, to UserName) error {
	if err := c.requireLogin(); err != nil {
		return err
	}
	q := query{}
	q.Set("lang", "zh_CN")
	q.Set("pass_ticket", c.passTicket())
	var res StatusNotifyResponse
	return c.postJSON(ctx, roleWeb, "webwxstatusnotify", q, StatusNotifyRequest{
		BaseRequest:  c.baseRequest(),
		Code:         code,
		FromUserName: c.SelfUserName(),
		ToUserName:   to,
		ClientMsgId:  FlexString(strconv.FormatInt(time.Now().UnixMilli(), 10)),
	}, &res)
}

// MarkRead tells the phone that the chat with peer was read.
func (c *Client) MarkRead(ctx context.Context, peer UserName) error {
	return c.StatusNotify(ctx, StatusNotifyRead, peer)
}
