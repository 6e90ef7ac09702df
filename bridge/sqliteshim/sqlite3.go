// Package sqlite3 stands in for github.com/mattn/go-sqlite3 (this module is wired in with a
// go.mod replace) and runs every connection on modernc.org/sqlite, pure Go. It provides only
// what maunium.net/go/mautrix and go.mau.fi/util use from mattn: the Error type and result
// codes, SQLiteDriver with its ConnectHook, SQLiteConn with Exec, RegisterFunc and
// SetFileControlInt, SQLITE_FCNTL_PERSIST_WAL, and the "sqlite3" driver. In CGO_ENABLED=0
// builds it also registers the drivers go.mau.fi/util/dbutil/litestream registers in cgo
// builds ("sqlite3-fk-wal", "sqlite3-fk-wal-fullsync", "litestream").
//
// DSNs are modernc's, which accepts mattn's shorthand keys (_fk, _journal_mode,
// _busy_timeout, _txlock, …). Three defaults are added unless the DSN sets them:
// _time_format=sqlite (time.Time is written as "2006-01-02 15:04:05.999999999-07:00",
// as mattn does, instead of modernc's t.String()), _busy_timeout=5000 (mattn's default)
// and _pragma=cache_size(-512) (see withDefaults).
package sqlite3

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"modernc.org/sqlite"
)

// SQLITE_FCNTL_PERSIST_WAL is the sqlite3_file_control opcode that keeps the WAL file
// after the last connection closes.
const SQLITE_FCNTL_PERSIST_WAL = int(10)

// engine opens the connections of every SQLiteDriver. It is a private modernc driver, so
// functions or hooks registered on modernc's own "sqlite" driver do not leak in.
var engine = &sqlite.Driver{}

func init() {
	sql.Register("sqlite3", &SQLiteDriver{})
}

// SQLiteDriver is a database/sql driver backed by modernc.org/sqlite.
type SQLiteDriver struct {
	// ConnectHook, if set, runs on every new connection before it is handed out.
	ConnectHook func(*SQLiteConn) error
}

var _ driver.Driver = (*SQLiteDriver)(nil)

// Open opens a new connection to the database named by dsn.
func (d *SQLiteDriver) Open(dsn string) (driver.Conn, error) {
	inner, err := engine.Open(withDefaults(dsn))
	if err != nil {
		return nil, mapErr(err)
	}
	c, err := newConn(inner)
	if err != nil {
		_ = inner.Close()
		return nil, err
	}
	if d.ConnectHook != nil {
		if err := d.ConnectHook(c); err != nil {
			_ = inner.Close()
			return nil, mapErr(err)
		}
	}
	return c, nil
}

// defaultCacheSize is each connection's page cache, in KiB (SQLite's own default is 2000).
// The bridge keeps all its pooled connections open, and each fills its cache to the bound
// as the database grows: with SQLite's default, megabytes of RSS after every start for
// pages the OS caches anyway. The burst benchmark's CPU per message did not rise with the
// smaller cache (test/bench/HISTORY.md).
const defaultCacheSize = "-512"

// withDefaults adds _time_format=sqlite, _busy_timeout=5000 and
// _pragma=cache_size(defaultCacheSize) to dsn unless it already chooses a time format, a
// busy timeout or a cache size. The rest of the DSN is left byte for byte.
func withDefaults(dsn string) string {
	var q url.Values
	if i := strings.IndexByte(dsn, '?'); i >= 0 {
		q, _ = url.ParseQuery(dsn[i+1:]) // modernc reports a malformed query itself
	}
	var add []string
	if !q.Has("_time_format") && !q.Has("_time_integer_format") {
		add = append(add, "_time_format=sqlite")
	}
	if !q.Has("_busy_timeout") && !q.Has("_timeout") {
		add = append(add, "_busy_timeout=5000")
	}
	if !slices.ContainsFunc(q["_pragma"], func(p string) bool {
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(p)), "cache_size")
	}) {
		add = append(add, "_pragma=cache_size("+defaultCacheSize+")")
	}
	if len(add) == 0 {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + strings.Join(add, "&")
}

// conner is what database/sql needs from a modernc connection; modernc's conn implements
// all of it (checked when a connection is wrapped).
type conner interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// SQLiteConn is one connection. It implements the driver.Conn optional interfaces by
// delegating to modernc, mapping errors to Error.
type SQLiteConn struct {
	inner conner
	cache stmtCache
}

var (
	_ driver.Conn               = (*SQLiteConn)(nil)
	_ driver.ConnBeginTx        = (*SQLiteConn)(nil)
	_ driver.ConnPrepareContext = (*SQLiteConn)(nil)
	_ driver.ExecerContext      = (*SQLiteConn)(nil)
	_ driver.QueryerContext     = (*SQLiteConn)(nil)
	_ driver.Pinger             = (*SQLiteConn)(nil)
	_ driver.SessionResetter    = (*SQLiteConn)(nil)
	_ driver.Validator          = (*SQLiteConn)(nil)
)

func newConn(inner driver.Conn) (*SQLiteConn, error) {
	c, ok := inner.(conner)
	if !ok {
		return nil, fmt.Errorf("sqlite3 shim: modernc connection %T lacks a driver interface", inner)
	}
	return &SQLiteConn{inner: c}, nil
}

// Exec runs a statement without arguments binding names (mattn's signature, used by
// connect hooks for PRAGMAs).
func (c *SQLiteConn) Exec(query string, args []driver.Value) (driver.Result, error) {
	named := make([]driver.NamedValue, len(args))
	for i, v := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return c.ExecContext(context.Background(), query, named)
}

// ErrRegisterFunc is returned by RegisterFunc: modernc registers SQL functions per driver
// before connections are opened, not on an open connection.
var ErrRegisterFunc = errors.New("sqlite3 shim: RegisterFunc on an open connection is not supported by modernc.org/sqlite; register the function on the driver instead")

// RegisterFunc is not supported (see ErrRegisterFunc). Nothing in mautrix v0.32.0 registers
// functions (go.mau.fi/util/dbutil/litestream.Functions is empty).
func (c *SQLiteConn) RegisterFunc(name string, impl any, pure bool) error {
	return fmt.Errorf("%w (function %q)", ErrRegisterFunc, name)
}

// SetFileControlInt calls sqlite3_file_control(dbName, op, &arg). Only
// SQLITE_FCNTL_PERSIST_WAL is supported.
func (c *SQLiteConn) SetFileControlInt(dbName string, op int, arg int) error {
	if dbName == "" {
		dbName = "main"
	}
	fc, ok := c.inner.(sqlite.FileControl)
	if !ok || op != SQLITE_FCNTL_PERSIST_WAL {
		return fmt.Errorf("sqlite3 shim: file control op %d is not supported", op)
	}
	_, err := fc.FileControlPersistWAL(dbName, arg)
	return mapErr(err)
}

func (c *SQLiteConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *SQLiteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, mapErr(err)
	}
	return wrapStmt(s), nil
}

func (c *SQLiteConn) Close() error {
	c.closeStmts()
	return mapErr(c.inner.Close())
}

// Begin starts a transaction.
//
// Deprecated: database/sql uses BeginTx.
func (c *SQLiteConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *SQLiteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	t, err := c.inner.BeginTx(ctx, opts)
	if err != nil {
		return nil, mapErr(err)
	}
	return tx{t}, nil
}

func (c *SQLiteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, mapErr(err)
	}
	if cs == nil {
		r, err := c.inner.ExecContext(ctx, query, args)
		return r, mapErr(err)
	}
	defer c.release(cs)
	r, err := cs.stmt.ExecContext(ctx, args)
	return r, mapErr(err)
}

func (c *SQLiteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, mapErr(err)
	}
	if cs == nil {
		r, err := c.inner.QueryContext(ctx, query, args)
		if err != nil {
			return nil, mapErr(err)
		}
		return wrapRows(r), nil
	}
	r, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		c.release(cs)
		return nil, mapErr(err)
	}
	return &releasingRows{rows: rows{r}, done: func() { c.release(cs) }}, nil
}

func (c *SQLiteConn) Ping(ctx context.Context) error { return mapErr(c.inner.Ping(ctx)) }

func (c *SQLiteConn) ResetSession(ctx context.Context) error {
	return mapErr(c.inner.ResetSession(ctx))
}

func (c *SQLiteConn) IsValid() bool { return c.inner.IsValid() }
