package sqlite3

import (
	"context"
	"database/sql/driver"
	"strings"
	"sync"
)

// database/sql prepares every query it is given without a statement anew, and SQLite's
// parser was a fifth of the bridge's CPU per bridged message (test/bench). Each connection
// therefore keeps its prepared statements for the queries it runs, by SQL text, as
// modernc's statements keep their SQLite handle and reset it for the next run.

// stmtCacheSize bounds the statements one connection keeps.
const stmtCacheSize = 128

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy bool // rows of it are open: a second run must not reset it under them
}

type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*cachedStmt
}

// cacheable: single DML statements, the ones run over and over. Scripts (several
// statements), DDL, PRAGMAs and transaction control go the plain way.
func cacheable(query string) bool {
	q := strings.TrimSpace(query)
	q = strings.TrimSuffix(q, ";")
	if strings.Contains(q, ";") || len(q) < 6 {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "REPLAC":
		return true
	}
	return strings.EqualFold(q[:4], "WITH")
}

// take returns the cached statement for query, prepared on first use and marked busy, or
// nil when the query is not cached or its statement is in use.
func (c *SQLiteConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	if !cacheable(query) {
		return nil, nil
	}
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	if cs, ok := c.cache.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		cs.busy = true
		return cs, nil
	}
	s, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := s.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		_ = s.Close()
		return nil, nil
	}
	if c.cache.stmts == nil {
		c.cache.stmts = map[string]*cachedStmt{}
	}
	if len(c.cache.stmts) >= stmtCacheSize {
		for q, old := range c.cache.stmts {
			if !old.busy {
				_ = old.stmt.Close()
				delete(c.cache.stmts, q)
				break
			}
		}
	}
	cs := &cachedStmt{stmt: st, busy: true}
	c.cache.stmts[query] = cs
	return cs, nil
}

func (c *SQLiteConn) release(cs *cachedStmt) {
	c.cache.mu.Lock()
	cs.busy = false
	c.cache.mu.Unlock()
}

// closeStmts finalizes the cached statements when the connection closes.
func (c *SQLiteConn) closeStmts() {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	for q, cs := range c.cache.stmts {
		_ = cs.stmt.Close()
		delete(c.cache.stmts, q)
	}
}

// releasingRows gives the statement back when its rows are closed.
type releasingRows struct {
	rows
	done func()
}

func (r *releasingRows) Close() error {
	err := r.rows.Close()
	if r.done != nil {
		r.done()
		r.done = nil
	}
	return err
}
