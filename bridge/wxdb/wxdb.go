// Package wxdb is the connector's own part of the bridge database — the identity map,
// pending friend requests, and the Matrix messages not yet handled — with all its SQL and
// its schema upgrades, like mautrix-whatsapp's wadb. It must not import the bridge or
// portal packages: it stores, and leaves what the rows mean to them.
package wxdb

import (
	"embed"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
)

//go:embed upgrades/*.sql
var upgradesFS embed.FS

var upgradeTable = dbutil.BuildUpgradeTable().WithFSPath(upgradesFS, "upgrades").Finish()

// Database is the connector's section of the bridge database (version table
// wechat_version); Upgrade brings its schema up to date.
type Database struct {
	*dbutil.Database
	Identity      *IdentityQuery
	FriendRequest *FriendRequestQuery
	PendingMatrix *PendingMatrixQuery
}

// New makes the section on the bridge's database.
func New(parent *dbutil.Database, log zerolog.Logger) *Database {
	db := parent.Child("wechat_version", upgradeTable, dbutil.ZeroLogger(log))
	return &Database{
		Database:      db,
		Identity:      &IdentityQuery{db: db},
		FriendRequest: newFriendRequestQuery(db),
		PendingMatrix: &PendingMatrixQuery{db: db},
	}
}
