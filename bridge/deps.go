//go:build tools

// This file only keeps the bridge's dependencies in go.mod until cmd/wxbridge and the
// connector import them (go mod tidy would drop them otherwise). The tools build tag keeps
// it out of every build.

package bridge

import (
	_ "github.com/mattn/go-sqlite3" // replaced by ./bridge/sqliteshim (modernc.org/sqlite)
	_ "maunium.net/go/mautrix/bridgev2/matrix/mxmain"
	_ "modernc.org/sqlite"
)
