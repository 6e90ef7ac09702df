package mautrixfix

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/bridgev2/database"
)

// queryCounter counts the statements whose SQL contains match.
type queryCounter struct {
	dbutil.DatabaseLogger
	match string
	n     atomic.Int32
}

func (l *queryCounter) QueryTiming(_ context.Context, _, query string, _ []any, _ int, _ time.Duration, _ error) {
	if strings.Contains(query, l.match) {
		l.n.Add(1)
	}
}

// newCountingDB opens a new SQLite database the way the bridge does and counts the
// statements run on it that contain match.
func newCountingDB(t *testing.T, match string) (*dbutil.Database, *queryCounter) {
	t.Helper()
	raw, err := dbutil.NewWithDialect("file:"+filepath.Join(t.TempDir(), "bridge.db")+"?_txlock=immediate", "sqlite3-fk-wal")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	counter := &queryCounter{DatabaseLogger: dbutil.NoopLogger, match: match}
	raw.Log = counter
	return raw, counter
}

// newBridgeDB is bridgev2's database on raw, upgraded, with login's user, login itself
// and portal.
func newBridgeDB(t *testing.T, raw *dbutil.Database, login *database.UserLogin, portal *database.Portal) *database.Database {
	t.Helper()
	ctx := context.Background()
	db := database.New("wechat", database.MetaTypes{}, raw)
	if err := db.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		db.User.Insert(ctx, &database.User{MXID: login.UserMXID}),
		db.UserLogin.Insert(ctx, login),
		db.Portal.Insert(ctx, portal),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return db
}
