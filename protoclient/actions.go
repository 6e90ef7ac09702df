package protoclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Revoke takes back a message this account sent: svrMsgID is the MsgID the send
// returned, clientMsgID the LocalID it was sent with. The server allows it for 2
// minutes; afterwards it answers Ret -1, returned as *APIError.
func (c *Client) Revoke(ctx context.Context, to UserName, svrMsgID, clientMsgID string) error {
	if err := c.requireLogin(); err != nil {
		return err
	}
	var res RevokeResponse
	return c.postJSON(ctx, roleWeb, "webwxrevokemsg", nil, RevokeRequest{
		BaseRequest: c.baseRequest(), SvrMsgId: svrMsgID, ToUserName: to, ClientMsgId: FlexString(clientMsgID),
	}, &res)
}

// AcceptFriendRequest accepts a friend request (MsgType 37) with the requester's
// session UserName and ticket from its RecommendInfo (webwxverifyuser Opcode 3).
func (c *Client) AcceptFriendRequest(ctx context.Context, userName UserName, ticket string) error {
	return c.VerifyUser(ctx, VerifyOpVerifyOK, userName, ticket, "")
}

// VerifyUser runs webwxverifyuser with any opcode; one user per call, as the web allows.
func (c *Client) VerifyUser(ctx context.Context, opcode int, userName UserName, ticket, content string) error {
	if err := c.requireLogin(); err != nil {
		return err
	}
	q := query{}
	q.Set("r", nowMillis())
	q.Set("lang", "zh_CN")
	q.Set("pass_ticket", c.passTicket())
	var res plainResponse
	return c.postJSON(ctx, roleWeb, "webwxverifyuser", q, VerifyUserRequest{
		BaseRequest: c.baseRequest(), Opcode: opcode, VerifyUserListSize: 1,
		VerifyUserList: []VerifyUser{{Value: userName, VerifyUserTicket: ticket}},
		VerifyContent:  content, SceneListCount: 1, SceneList: []int{33}, Skey: c.skey(),
	}, &res)
}

// Chat room update functions of webwxupdatechatroom.
const (
	ChatRoomAddMember    = "addmember"
	ChatRoomInviteMember = "invitemember"
	ChatRoomDelMember    = "delmember"
	ChatRoomModTopic     = "modtopic"
)

// UpdateChatRoom adds, invites or removes members (UserNames) or renames a group
// (topic). Lists go on the wire comma-joined (§4.19).
func (c *Client) UpdateChatRoom(ctx context.Context, room UserName, fun string, members []UserName, topic string) (*ChatRoomResponse, error) {
	if err := c.requireLogin(); err != nil {
		return nil, err
	}
	body := UpdateChatRoomRequest{BaseRequest: c.baseRequest(), ChatRoomName: room}
	list := joinUserNames(members)
	switch fun {
	case ChatRoomAddMember:
		body.AddMemberList = list
	case ChatRoomInviteMember:
		body.InviteMemberList = list
	case ChatRoomDelMember:
		body.DelMemberList = list
	case ChatRoomModTopic:
		body.NewTopic = topic
	default:
		return nil, fmt.Errorf("protoclient: unknown chat room function %q", fun)
	}
	q := query{}
	q.Set("fun", fun)
	q.Set("lang", "zh_CN")
	q.Set("pass_ticket", c.passTicket())
	var res ChatRoomResponse
	if err := c.postJSON(ctx, roleWeb, "webwxupdatechatroom", q, body, &res); err != nil {
		return nil, err
	}
	decodeMemberNames(res.MemberList)
	return &res, nil
}

// CreateChatRoom creates a group with at least two other members; the answer's
// ChatRoomName is the new group's UserName.
func (c *Client) CreateChatRoom(ctx context.Context, topic string, members []UserName) (*ChatRoomResponse, error) {
	if err := c.requireLogin(); err != nil {
		return nil, err
	}
	list := make([]CreateChatRoomMember, len(members))
	for i, m := range members {
		list[i] = CreateChatRoomMember{UserName: m}
	}
	q := query{}
	q.Set("r", nowMillis())
	q.Set("pass_ticket", c.passTicket())
	var res ChatRoomResponse
	if err := c.postJSON(ctx, roleWeb, "webwxcreatechatroom", q, CreateChatRoomRequest{
		BaseRequest: c.baseRequest(), MemberCount: len(list), MemberList: list, Topic: topic,
	}, &res); err != nil {
		return nil, err
	}
	decodeMemberNames(res.MemberList)
	return &res, nil
}

// Logout ends the session on the server. The answer is not JSON; any 2xx/3xx is
// success (§3.7). The session's credentials are dropped, the device cookies kept, so a
// later PushLogin remains possible.
func (c *Client) Logout(ctx context.Context) error {
	if err := c.requireLogin(); err != nil {
		return err
	}
	q := query{}
	q.Set("redirect", "1")
	q.Set("type", "0")
	q.Set("skey", c.skey())
	c.mu.Lock()
	form := url.Values{}
	form.Set("sid", c.sess.Sid)
	form.Set("uin", fmt.Sprint(c.sess.Uin))
	c.mu.Unlock()
	ctx2, cancel := context.WithTimeout(ctx, c.opts.APITimeout)
	defer cancel()
	req, err := newRequest(ctx2, http.MethodPost, c.roleURL(roleWeb, cgi("webwxlogout"), q), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.do(req, "webwxlogout")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return &HTTPError{Endpoint: "webwxlogout", StatusCode: resp.StatusCode}
	}
	c.mu.Lock()
	c.sess.Sid, c.sess.Skey, c.sess.PassTicket = "", "", ""
	c.sess.SyncKey, c.sess.SyncCheckKey = SyncKey{}, nil
	c.mu.Unlock()
	return nil
}

// joinUserNames is a list of UserNames as the wire has it: comma-joined.
func joinUserNames(names []UserName) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(n))
	}
	return b.String()
}

// webwxoplog's CmdIds (oplogCmdId, §4.16).
const (
	OplogModRemarkName = 2
	OplogTopContact    = 3
)

// SetRemarkName sets the user's private name (备注) for a contact (webwxoplog CmdId 2,
// §4.16). Other clients report that WeChat ignores or refuses it for some accounts: a
// refusal comes back as an *APIError.
func (c *Client) SetRemarkName(ctx context.Context, contact UserName, remark string) error {
	return c.oplog(ctx, OplogModRemarkName, nil, remark, contact)
}

// SetPinned pins or unpins a chat (置顶; webwxoplog CmdId 3). remark must be the
// contact's current remark name: WeChat overwrites the remark with whatever this call
// carries (§4.16). Groups have none; pass "".
func (c *Client) SetPinned(ctx context.Context, chat UserName, pinned bool, remark string) error {
	op := 0
	if pinned {
		op = 1
	}
	return c.oplog(ctx, OplogTopContact, &op, remark, chat)
}

func (c *Client) oplog(ctx context.Context, cmd int, op *int, remark string, userName UserName) error {
	if err := c.requireLogin(); err != nil {
		return err
	}
	q := query{}
	q.Set("lang", "zh_CN")
	q.Set("pass_ticket", c.passTicket())
	var res plainResponse
	return c.postJSON(ctx, roleWeb, "webwxoplog", q, struct {
		BaseRequest BaseRequest `json:"BaseRequest"`
		CmdId       int         `json:"CmdId"`
		OP          *int        `json:"OP,omitempty"`
		RemarkName  string      `json:"RemarkName"`
		UserName    UserName    `json:"UserName"`
	}{c.baseRequest(), cmd, op, remark, userName}, &res)
}
