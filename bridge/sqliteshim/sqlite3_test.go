package sqlite3_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

func openDB(t *testing.T, driverName, dsn string) *sql.DB {
	t.Helper()
	if !slices.Contains(sql.Drivers(), driverName) {
		t.Skipf("driver %q not registered in this build (cgo builds get it from litestream)", driverName)
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatalf("open %s %s: %v", driverName, dsn, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func dbFile(t *testing.T) string { return filepath.Join(t.TempDir(), "test.db") }

type pragmas struct {
	foreignKeys int
	journalMode string
	busyTimeout int
	synchronous int
	cacheSize   int
}

func readPragmas(t *testing.T, conn *sql.Conn) pragmas {
	t.Helper()
	ctx := context.Background()
	var p pragmas
	for _, q := range []struct {
		sql  string
		dest any
	}{
		{"PRAGMA foreign_keys", &p.foreignKeys},
		{"PRAGMA journal_mode", &p.journalMode},
		{"PRAGMA busy_timeout", &p.busyTimeout},
		{"PRAGMA synchronous", &p.synchronous},
		{"PRAGMA cache_size", &p.cacheSize},
	} {
		if err := conn.QueryRowContext(ctx, q.sql).Scan(q.dest); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return p
}

// checkAllConns opens n connections at once (so the pool cannot hand out the same one
// twice) and checks the pragmas of each.
func checkAllConns(t *testing.T, db *sql.DB, n int, want pragmas) {
	t.Helper()
	ctx := context.Background()
	var conns []*sql.Conn
	for range n {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		if got := readPragmas(t, c); got != want {
			t.Errorf("conn %d: pragmas = %+v, want %+v", i, got, want)
		}
		_ = c.Close()
	}
}

func TestDriversPragmas(t *testing.T) {
	tests := []struct {
		driver, query string
		want          pragmas
	}{
		// mattn defaults: no FK, rollback journal, busy_timeout 5000; the shim's page cache.
		{"sqlite3", "", pragmas{0, "delete", 5000, 2, -512}},
		// mattn-style DSN keys, honoured by modernc; a cache size of the DSN's own.
		{"sqlite3", "?_fk=1&_journal_mode=WAL&_busy_timeout=1234&_sync=NORMAL&_pragma=cache_size(-3000)", pragmas{1, "wal", 1234, 1, -3000}},
		{"sqlite3-fk-wal", "?_txlock=immediate", pragmas{1, "wal", 5000, 1, -512}},
		{"sqlite3-fk-wal-fullsync", "?_txlock=immediate", pragmas{1, "wal", 5000, 2, -512}},
		{"litestream", "", pragmas{1, "wal", 5000, 1, -512}},
	}
	for _, tt := range tests {
		t.Run(tt.driver+tt.query, func(t *testing.T) {
			db := openDB(t, tt.driver, "file:"+dbFile(t)+tt.query)
			checkAllConns(t, db, 3, tt.want)
		})
	}
}

// mxmainCorrupt is the check mautrix's mxmain does before exiting with code 18.
func mxmainCorrupt(err error) bool {
	sqlError := &sqlite3.Error{}
	return errors.As(err, sqlError) && sqlError.Code == sqlite3.ErrCorrupt
}

func asError(t *testing.T, err error) sqlite3.Error {
	t.Helper()
	var se sqlite3.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a sqlite3.Error", err, err)
	}
	return se
}

func TestConstraintErrors(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, "sqlite3-fk-wal", "file:"+dbFile(t)+"?_txlock=immediate")
	for _, q := range []string{
		"CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)",
		"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id))",
		"INSERT INTO parent (id, name) VALUES (1, 'a')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	_, err := db.ExecContext(ctx, "INSERT INTO parent (id, name) VALUES (2, 'a')")
	se := asError(t, err)
	if se.Code != sqlite3.ErrConstraint || se.ExtendedCode != sqlite3.ErrConstraintUnique {
		t.Errorf("unique violation: Code %d ExtendedCode %d, want %d/%d", se.Code, se.ExtendedCode,
			sqlite3.ErrConstraint, sqlite3.ErrConstraintUnique)
	}
	if ok, _ := regexp.MatchString(`UNIQUE constraint failed: parent\.name`, se.Error()); !ok {
		t.Errorf("message %q lacks SQLite's text", se.Error())
	}

	// Through a transaction and a prepared statement (the wrapped Stmt path).
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO child (id, parent_id) VALUES (?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	_, err = stmt.ExecContext(ctx, 1, 99)
	se = asError(t, err)
	if se.Code != sqlite3.ErrConstraint || se.ExtendedCode != sqlite3.ErrConstraintForeignKey {
		t.Errorf("FK violation: Code %d ExtendedCode %d", se.Code, se.ExtendedCode)
	}
	_ = stmt.Close()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	_, err = db.ExecContext(ctx, "INSERT INTO parent (id, name) VALUES (3, NULL)")
	if se := asError(t, err); se.ExtendedCode != sqlite3.ErrConstraintNotNull {
		t.Errorf("NOT NULL violation: ExtendedCode %d", se.ExtendedCode)
	}
	if mxmainCorrupt(err) {
		t.Error("constraint error taken for corruption")
	}
}

func TestCorruptDatabase(t *testing.T) {
	ctx := context.Background()
	path := dbFile(t)
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		if _, err := tx.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, ?)", i, "some text to fill a few pages"); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var pageSize int
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	// Overwrite the table's root page (page 2) with garbage; the header (page 1) stays valid.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, pageSize)
	for i := range garbage {
		garbage[i] = 0xA5
	}
	if _, err := f.WriteAt(garbage, int64(pageSize)); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()

	db = openDB(t, "sqlite3", "file:"+path)
	var n int
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n)
	if err == nil {
		t.Fatalf("count on a corrupt table succeeded: %d", n)
	}
	if se := asError(t, err); se.Code != sqlite3.ErrCorrupt {
		t.Errorf("Code = %d (%v), want ErrCorrupt", se.Code, err)
	}
	if !mxmainCorrupt(err) {
		t.Errorf("mxmain's check does not see %v as corruption", err)
	}
	t.Logf("corrupt: %v", err)
}

func TestBusy(t *testing.T) {
	ctx := context.Background()
	path := dbFile(t)
	a := openDB(t, "sqlite3", "file:"+path+"?_txlock=immediate")
	b := openDB(t, "sqlite3", "file:"+path+"?_txlock=immediate&_busy_timeout=50")
	if _, err := a.ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	txA, err := a.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = txA.Rollback() }()
	_, err = b.BeginTx(ctx, nil)
	if se := asError(t, err); se.Code != sqlite3.ErrBusy {
		t.Errorf("Code = %d (%v), want ErrBusy", se.Code, err)
	}
}

func TestTimeRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, driverName := range []string{"sqlite3", "sqlite3-fk-wal"} {
		t.Run(driverName, func(t *testing.T) {
			db := openDB(t, driverName, "file:"+dbFile(t))
			if _, err := db.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, ts TIMESTAMP NOT NULL)"); err != nil {
				t.Fatal(err)
			}
			loc := time.FixedZone("UTC+8", 8*3600)
			in := time.Now().In(loc) // carries a monotonic reading, which must not be stored
			if _, err := db.ExecContext(ctx, "INSERT INTO t (id, ts) VALUES (1, ?)", in); err != nil {
				t.Fatal(err)
			}
			var raw string
			if err := db.QueryRowContext(ctx, "SELECT CAST(ts AS TEXT) FROM t").Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if want := in.Format("2006-01-02 15:04:05.999999999-07:00"); raw != want {
				t.Errorf("stored %q, want %q", raw, want)
			}
			var out time.Time
			if err := db.QueryRowContext(ctx, "SELECT ts FROM t").Scan(&out); err != nil {
				t.Fatal(err)
			}
			if !out.Equal(in) {
				t.Errorf("read back %v, want %v", out, in)
			}
			// SQL-side comparison works on the stored text (the crypto store relies on it).
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE ts < ?", in.Add(time.Second)).Scan(&n); err != nil || n != 1 {
				t.Errorf("ts < later: n=%d err=%v", n, err)
			}
		})
	}
}

func TestConnAPI(t *testing.T) {
	var hooked *sqlite3.SQLiteConn
	sql.Register("sqlite3-shim-test", &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		hooked = c
		if err := c.SetFileControlInt("", sqlite3.SQLITE_FCNTL_PERSIST_WAL, 1); err != nil {
			return err
		}
		if err := c.SetFileControlInt("main", 12345, 1); err == nil {
			t.Error("unsupported file control op accepted")
		}
		if err := c.RegisterFunc("f", func() int { return 1 }, true); !errors.Is(err, sqlite3.ErrRegisterFunc) {
			t.Errorf("RegisterFunc: %v", err)
		}
		_, err := c.Exec("PRAGMA user_version = 7", nil)
		return err
	}})
	db := openDB(t, "sqlite3-shim-test", "file:"+dbFile(t))
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != 7 {
		t.Fatalf("user_version = %d, %v", v, err)
	}
	if hooked == nil {
		t.Fatal("ConnectHook not called")
	}

	// A failing hook fails the open with its error.
	sql.Register("sqlite3-shim-test-fail", &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA no_such_thing = ; nonsense", nil)
		return err
	}})
	bad := openDB(t, "sqlite3-shim-test-fail", "file:"+dbFile(t))
	if err := bad.Ping(); err == nil {
		t.Error("failing hook did not fail the connection")
	} else {
		asError(t, err)
	}
}

func TestErrNoStrings(t *testing.T) {
	if sqlite3.ErrCorrupt.Error() == "" || sqlite3.ErrConstraintUnique.Error() == "" {
		t.Error("empty error strings")
	}
	if got := sqlite3.ErrConstraint.Extend(8); got != 2067 {
		t.Errorf("Extend = %d, want 2067", got)
	}
	if sqlite3.SQLITE_FCNTL_PERSIST_WAL != 10 {
		t.Error("SQLITE_FCNTL_PERSIST_WAL != 10")
	}
}
