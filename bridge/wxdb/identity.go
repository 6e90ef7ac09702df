package wxdb

import (
	"context"
	"wxbridge/protoclient"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/bridgev2/networkid"
)

// IdentityQuery persists the session UserName → stable id map of each login.
type IdentityQuery struct {
	db *dbutil.Database
}

// Load is the login's map.
func (s *IdentityQuery) Load(ctx context.Context, login networkid.UserLoginID) (map[protoclient.UserName]protoclient.WxID, error) {
	rows, err := s.db.Query(ctx, "SELECT user_name, stable_id FROM wechat_identity WHERE login_id=$1", login)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[protoclient.UserName]protoclient.WxID{}
	for rows.Next() {
		var u protoclient.UserName
		var id protoclient.WxID
		if err := rows.Scan(&u, &id); err != nil {
			return nil, err
		}
		out[u] = id
	}
	return out, rows.Err()
}

// Put adds or replaces pairs.
func (s *IdentityQuery) Put(ctx context.Context, login networkid.UserLoginID, pairs map[protoclient.UserName]protoclient.WxID) error {
	if len(pairs) == 0 {
		return nil
	}
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for u, id := range pairs {
			_, err := s.db.Exec(ctx, `INSERT INTO wechat_identity (login_id, user_name, stable_id) VALUES ($1, $2, $3)
				ON CONFLICT (login_id, user_name) DO UPDATE SET stable_id=excluded.stable_id`, login, u, id)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Clear forgets the login's map (a new session: every UserName is new).
func (s *IdentityQuery) Clear(ctx context.Context, login networkid.UserLoginID) error {
	_, err := s.db.Exec(ctx, "DELETE FROM wechat_identity WHERE login_id=$1", login)
	return err
}
