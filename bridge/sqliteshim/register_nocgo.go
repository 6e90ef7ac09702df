//go:build !cgo

package sqlite3

import (
	"database/sql"
	"database/sql/driver"
)

// In cgo builds go.mau.fi/util/dbutil/litestream (register.go, //go:build cgo) registers
// these three drivers on top of SQLiteDriver. Without cgo it registers nothing, so the
// shim registers the same names with the same connect hooks; mautrix's config uses
// database.type "sqlite3-fk-wal".
func init() {
	sql.Register("litestream", &SQLiteDriver{ConnectHook: func(c *SQLiteConn) error {
		if err := c.SetFileControlInt("main", SQLITE_FCNTL_PERSIST_WAL, 1); err != nil {
			return err
		}
		return execAll(c,
			"PRAGMA foreign_keys = ON",
			"PRAGMA journal_mode = WAL",
			"PRAGMA wal_autocheckpoint = 0",
			"PRAGMA synchronous = NORMAL",
			"PRAGMA busy_timeout = 5000",
		)
	}})
	sql.Register("sqlite3-fk-wal", &SQLiteDriver{ConnectHook: func(c *SQLiteConn) error {
		return execAll(c,
			"PRAGMA foreign_keys = ON",
			"PRAGMA journal_mode = WAL",
			"PRAGMA synchronous = NORMAL",
			"PRAGMA busy_timeout = 5000",
		)
	}})
	sql.Register("sqlite3-fk-wal-fullsync", &SQLiteDriver{ConnectHook: func(c *SQLiteConn) error {
		return execAll(c,
			"PRAGMA foreign_keys = ON",
			"PRAGMA journal_mode = WAL",
			"PRAGMA synchronous = FULL",
			"PRAGMA busy_timeout = 5000",
		)
	}})
}

func execAll(c *SQLiteConn, stmts ...string) error {
	for _, s := range stmts {
		if _, err := c.Exec(s, []driver.Value{}); err != nil {
			return err
		}
	}
	return nil
}
