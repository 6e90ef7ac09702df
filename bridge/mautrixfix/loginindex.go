package mautrixfix

import (
	"context"
	"fmt"

	"maunium.net/go/mautrix/bridgev2/database"
)

// loginUserIndex is ours, named so that it is not mistaken for one of mautrix's.
const loginUserIndex = "wechat_user_login_user_idx"

// IndexLoginsByUser adds the index mautrix-go v0.32.0's schema lacks for its own query of
// a user's logins (user_login by bridge_id and user_mxid; its primary key is bridge_id
// and id). At every start bridgev2 loads each user with logins one after the other, and
// each load ran that query as a scan of every login: the start of a bridge grew with the
// square of its logins, and a bridge with thousands of them spent most of a restart there
// before any login connected. It must run after bridgev2's own schema upgrade (the
// network connector's Start) and is a no-op once the index exists.
func IndexLoginsByUser(ctx context.Context, db *database.Database) error {
	_, err := db.Exec(ctx, "CREATE INDEX IF NOT EXISTS "+loginUserIndex+" ON user_login (bridge_id, user_mxid)")
	if err != nil {
		return fmt.Errorf("indexing user_login by user: %w", err)
	}
	return nil
}
