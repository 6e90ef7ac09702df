package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/bridgev2/networkid"
	"maunium.net/go/mautrix/event"

	"wxbridge/portal"
	"wxbridge/protoclient"
)

// pendingFriend is a friend request waiting for the accept command.
type pendingFriend struct {
	ID string
	// SessionUser is the user's own UserName in the session that received the request:
	// UserName is a session name and only valid there.
	SessionUser string
	UserName    string
	Ticket      string
	WxID        string
	NickName    string
	Alias       string
	ReceivedAt  time.Time
}

// friendRequestStore keeps pending friend requests in memory and in the connector's
// database, so the accept command still works after a restart.
type friendRequestStore struct {
	db *dbutil.Database

	mu      sync.Mutex
	pending map[networkid.UserLoginID]map[string]pendingFriend
}

func newFriendRequestStore(db *dbutil.Database) *friendRequestStore {
	return &friendRequestStore{db: db, pending: map[networkid.UserLoginID]map[string]pendingFriend{}}
}

// loaded returns the login's requests, reading them from the database the first time.
// The caller holds mu.
func (s *friendRequestStore) loaded(ctx context.Context, login networkid.UserLoginID) (map[string]pendingFriend, error) {
	if m, ok := s.pending[login]; ok {
		return m, nil
	}
	m := map[string]pendingFriend{}
	if s.db != nil {
		rows, err := s.db.Query(ctx, `SELECT request_id, session_self, user_name, ticket, wxid, nickname, alias, received_at
			FROM wechat_friend_request WHERE login_id=$1`, login)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var p pendingFriend
			var ts int64
			if err := rows.Scan(&p.ID, &p.SessionUser, &p.UserName, &p.Ticket, &p.WxID, &p.NickName, &p.Alias, &ts); err != nil {
				return nil, err
			}
			p.ReceivedAt = time.UnixMilli(ts)
			m[p.ID] = p
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	s.pending[login] = m
	return m, nil
}

// put remembers a request and reports whether it is new: the same request again (a
// batch that is retried) is not announced twice.
func (s *friendRequestStore) put(ctx context.Context, login networkid.UserLoginID, p pendingFriend) (isNew bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.loaded(ctx, login)
	if err != nil {
		return false, err
	}
	if old, ok := m[p.ID]; ok && old.Ticket == p.Ticket && old.SessionUser == p.SessionUser {
		return false, nil
	}
	m[p.ID] = p
	if s.db == nil {
		return true, nil
	}
	_, err = s.db.Exec(ctx, `INSERT INTO wechat_friend_request
			(login_id, request_id, session_self, user_name, ticket, wxid, nickname, alias, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (login_id, request_id) DO UPDATE SET session_self=excluded.session_self,
			user_name=excluded.user_name, ticket=excluded.ticket, wxid=excluded.wxid,
			nickname=excluded.nickname, alias=excluded.alias, received_at=excluded.received_at`,
		login, p.ID, p.SessionUser, p.UserName, p.Ticket, p.WxID, p.NickName, p.Alias, p.ReceivedAt.UnixMilli())
	// Kept in memory either way: the command works until a restart.
	return true, err
}

func (s *friendRequestStore) get(ctx context.Context, login networkid.UserLoginID, id string) (pendingFriend, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.loaded(ctx, login)
	if err != nil {
		return pendingFriend{}, false, err
	}
	if p, ok := m[id]; ok {
		return p, true, nil
	}
	// The id is a wxid; people type them in any case.
	for k, p := range m {
		if strings.EqualFold(k, id) {
			return p, true, nil
		}
	}
	return pendingFriend{}, false, nil
}

func (s *friendRequestStore) remove(ctx context.Context, login networkid.UserLoginID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.pending[login]; ok {
		delete(m, id)
	}
	if s.db == nil {
		return nil
	}
	_, err := s.db.Exec(ctx, "DELETE FROM wechat_friend_request WHERE login_id=$1 AND request_id=$2", login, id)
	return err
}

// handleFriendRequest announces a friend request (MsgType 37, from fmessage) in the
// user's management room with the command that accepts it, and remembers what
// accepting takes. Only a finished ctx is an error: a notice that cannot be sent is
// logged, since failing would make WeChat's whole batch come again, forever.
func (c *WeChatClient) handleFriendRequest(ctx context.Context, m *protoclient.Message, body string) error {
	content, req := portal.FriendRequestNotice(m, body)
	log := zerolog.Ctx(ctx).With().Str("msg_id", m.MsgId).Str("request_id", req.ID).Str("requester_wxid", req.WxID).Logger()
	if req.CanAccept() && req.ID != "" {
		isNew, err := c.Main.friends.put(ctx, c.Login.ID, pendingFriend{
			ID:          req.ID,
			SessionUser: c.wx.SelfUserName(),
			UserName:    req.UserName,
			Ticket:      req.Ticket,
			WxID:        req.WxID,
			NickName:    req.NickName,
			Alias:       req.Alias,
			ReceivedAt:  time.Unix(m.CreateTime, 0),
		})
		if err != nil {
			log.Err(err).Msg("Storing a WeChat friend request failed; it can be accepted until the bridge restarts")
		}
		if !isNew && err == nil {
			log.Debug().Msg("WeChat friend request already announced")
			return nil
		}
	} else {
		log.Warn().Msg("WeChat friend request without what accepting it takes; announcing it without a command")
	}
	if err := c.sendManagementNotice(ctx, content); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Err(err).Msg("Announcing a WeChat friend request failed")
		return nil
	}
	log.Info().Msg("Announced a WeChat friend request")
	return nil
}

// sendManagementNotice sends a message as the bridge bot in the user's management room.
func (c *WeChatClient) sendManagementNotice(ctx context.Context, content *event.MessageEventContent) error {
	room, err := c.Login.User.GetManagementRoom(ctx)
	if err != nil {
		return fmt.Errorf("get management room: %w", err)
	}
	_, err = c.Main.Bridge.Bot.SendMessage(ctx, room, event.EventMessage, &event.Content{Parsed: content}, nil)
	return err
}

var errNoSuchFriendRequest = errors.New("no such friend request")

// acceptFriend accepts a pending friend request (webwxverifyuser Opcode 3) and returns
// it. The errors are written for people.
func (c *WeChatClient) acceptFriend(ctx context.Context, id string) (pendingFriend, error) {
	store := c.Main.friends
	p, ok, err := store.get(ctx, c.Login.ID, id)
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Reading pending WeChat friend requests failed")
		return p, fmt.Errorf("could not read the pending friend requests: %w", err)
	}
	if !ok {
		return p, errNoSuchFriendRequest
	}
	if !c.IsLoggedIn() {
		return p, errNotConnected
	}
	if p.SessionUser != c.wx.SelfUserName() {
		// The requester's UserName belonged to an earlier web session.
		_ = store.remove(ctx, c.Login.ID, p.ID)
		return p, errors.New("this request arrived before you last logged in to WeChat and can no longer be accepted from here; accept it on your phone")
	}
	if err := c.wx.AcceptFriendRequest(ctx, p.UserName, p.Ticket); err != nil {
		var ae *protoclient.APIError
		if errors.As(err, &ae) && ae.Refused() {
			_ = store.remove(ctx, c.Login.ID, p.ID)
			return p, errors.New("WeChat no longer accepts this request (it may have expired or been handled on your phone)")
		}
		return p, wechatFailure(err, "accept the request")
	}
	if err := store.remove(ctx, c.Login.ID, p.ID); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Forgetting an accepted WeChat friend request failed")
	}
	// The request named the requester's permanent wxid next to their session name: the
	// new contact that ModContactList brings gets its real id, not a derived one.
	if looksLikeWxid(p.WxID) && p.UserName != "" {
		pair := map[string]protoclient.WxID{p.UserName: protoclient.WxID(p.WxID)}
		c.dir.learn(pair)
		if err := c.Main.identities.put(ctx, c.Login.ID, pair); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Storing the new contact's WeChat id failed")
		}
	}
	return p, nil
}

// looksLikeWxid: a permanent id, not a v1_…@stranger name or a session name.
func looksLikeWxid(s string) bool {
	return s != "" && !strings.ContainsAny(s, "@ ")
}
