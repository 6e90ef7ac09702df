package wxdb

import (
	"context"
	"strings"
	"sync"
	"time"

	"wxbridge/protoclient"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/bridgev2/networkid"
)

// FriendRequest is a friend request waiting for the accept command.
type FriendRequest struct {
	ID string
	// SessionUser is the user's own UserName in the session that received the request:
	// UserName is a session name and only valid there.
	SessionUser protoclient.UserName
	UserName    protoclient.UserName
	Ticket      string
	WxID        string
	NickName    string
	Alias       string
	ReceivedAt  time.Time
}

// FriendRequestQuery keeps pending friend requests in memory and in the connector's
// database, so the accept command still works after a restart.
type FriendRequestQuery struct {
	db *dbutil.Database

	mu      sync.Mutex
	pending map[networkid.UserLoginID]map[string]FriendRequest
}

func newFriendRequestQuery(db *dbutil.Database) *FriendRequestQuery {
	return &FriendRequestQuery{db: db, pending: map[networkid.UserLoginID]map[string]FriendRequest{}}
}

// loaded returns the login's requests, reading them from the database the first time.
// The caller holds mu.
func (s *FriendRequestQuery) loaded(ctx context.Context, login networkid.UserLoginID) (map[string]FriendRequest, error) {
	if m, ok := s.pending[login]; ok {
		return m, nil
	}
	m := map[string]FriendRequest{}
	if s.db != nil {
		rows, err := s.db.Query(ctx, `SELECT request_id, session_self, user_name, ticket, wxid, nickname, alias, received_at
			FROM wechat_friend_request WHERE login_id=$1`, login)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var p FriendRequest
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

// Put remembers a request and reports whether it is new: the same request again (a
// batch that is retried) is not announced twice.
func (s *FriendRequestQuery) Put(ctx context.Context, login networkid.UserLoginID, p FriendRequest) (isNew bool, err error) {
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

// Get finds a request by its id, in any case (people type wxids as they like).
func (s *FriendRequestQuery) Get(ctx context.Context, login networkid.UserLoginID, id string) (FriendRequest, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.loaded(ctx, login)
	if err != nil {
		return FriendRequest{}, false, err
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
	return FriendRequest{}, false, nil
}

// Delete forgets a request.
func (s *FriendRequestQuery) Delete(ctx context.Context, login networkid.UserLoginID, id string) error {
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
