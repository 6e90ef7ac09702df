package sqlite3

import (
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
)

// The wrappers below only map errors (so that SQLITE_BUSY on COMMIT or SQLITE_CORRUPT
// while stepping through rows surface as Error too) and otherwise delegate to modernc.

type tx struct{ inner driver.Tx }

func (t tx) Commit() error   { return mapErr(t.inner.Commit()) }
func (t tx) Rollback() error { return mapErr(t.inner.Rollback()) }

type stmt struct{ inner driver.Stmt }

var (
	_ driver.StmtExecContext  = stmt{}
	_ driver.StmtQueryContext = stmt{}
)

func wrapStmt(s driver.Stmt) driver.Stmt { return stmt{s} }

func (s stmt) Close() error  { return mapErr(s.inner.Close()) }
func (s stmt) NumInput() int { return s.inner.NumInput() }

// Exec is the pre-context form of ExecContext.
//
// Deprecated: database/sql uses ExecContext.
func (s stmt) Exec(args []driver.Value) (driver.Result, error) {
	r, err := s.inner.Exec(args)
	return r, mapErr(err)
}

// Query is the pre-context form of QueryContext.
//
// Deprecated: database/sql uses QueryContext.
func (s stmt) Query(args []driver.Value) (driver.Rows, error) {
	r, err := s.inner.Query(args)
	if err != nil {
		return nil, mapErr(err)
	}
	return wrapRows(r), nil
}

var errNoContext = errors.New("sqlite3 shim: statement lacks context support")

func (s stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	se, ok := s.inner.(driver.StmtExecContext)
	if !ok {
		return nil, errNoContext
	}
	r, err := se.ExecContext(ctx, args)
	return r, mapErr(err)
}

func (s stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	sq, ok := s.inner.(driver.StmtQueryContext)
	if !ok {
		return nil, errNoContext
	}
	r, err := sq.QueryContext(ctx, args)
	if err != nil {
		return nil, mapErr(err)
	}
	return wrapRows(r), nil
}

// rows delegates the column-type interfaces modernc's rows implement; where the inner
// rows lack one, it answers "unknown" as database/sql does for drivers without it.
type rows struct{ inner driver.Rows }

var (
	_ driver.RowsColumnTypeDatabaseTypeName = rows{}
	_ driver.RowsColumnTypeLength           = rows{}
	_ driver.RowsColumnTypeNullable         = rows{}
	_ driver.RowsColumnTypePrecisionScale   = rows{}
	_ driver.RowsColumnTypeScanType         = rows{}
)

func wrapRows(r driver.Rows) driver.Rows { return rows{r} }

func (r rows) Columns() []string              { return r.inner.Columns() }
func (r rows) Close() error                   { return mapErr(r.inner.Close()) }
func (r rows) Next(dest []driver.Value) error { return mapErr(r.inner.Next(dest)) }

func (r rows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.inner.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r rows) ColumnTypeLength(i int) (int64, bool) {
	if x, ok := r.inner.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(i)
	}
	return 0, false
}

func (r rows) ColumnTypeNullable(i int) (bool, bool) {
	if x, ok := r.inner.(driver.RowsColumnTypeNullable); ok {
		return x.ColumnTypeNullable(i)
	}
	return false, false
}

func (r rows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if x, ok := r.inner.(driver.RowsColumnTypePrecisionScale); ok {
		return x.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r rows) ColumnTypeScanType(i int) reflect.Type {
	if x, ok := r.inner.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
