package sqlite3_test

import (
	"context"
	"fmt"
	"testing"
)

// Queries run through the connection's statement cache give the same answers as before:
// repeated, nested while rows of the same query are open, inside a transaction, past the
// cache's size, and scripts of several statements still run whole.
func TestStatementCache(t *testing.T) {
	db := openDB(t, "sqlite3", "file:"+dbFile(t)+"?_txlock=immediate")
	db.SetMaxOpenConns(1) // one connection: every query meets the same cache
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE m (id INTEGER PRIMARY KEY, body TEXT); CREATE INDEX m_body ON m(body)"); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := db.ExecContext(ctx, "INSERT INTO m (id, body) VALUES ($1, $2)", i, fmt.Sprint("b", i)); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	for i := range 50 {
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM m WHERE id <= $1", i).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("count up to %d = %d, %v", i, n, err)
		}
	}
	// The same query again while its rows are open (inside one transaction, so on one
	// connection): the second must not reset the first's statement.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const q = "SELECT id FROM m WHERE id < $1 ORDER BY id"
	outer, err := tx.QueryContext(ctx, q, 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var id int
		if err := outer.Scan(&id); err != nil {
			t.Fatal(err)
		}
		var inner []int
		rs, err := tx.QueryContext(ctx, q, id+1)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var x int
			_ = rs.Scan(&x)
			inner = append(inner, x)
		}
		rs.Close()
		if len(inner) != id+1 {
			t.Fatalf("nested run of the same query for %d gave %v", id, inner)
		}
		got = append(got, id)
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[0 1 2]" {
		t.Fatalf("outer rows %v, want [0 1 2]: the nested run disturbed them", got)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE m SET body = $1 WHERE id = $2", "changed", 7); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	var body string
	if err := db.QueryRowContext(ctx, "SELECT body FROM m WHERE id = $1", 7).Scan(&body); err != nil || body != "b7" {
		t.Fatalf("after the rollback body = %q, %v; want b7", body, err)
	}
	// More distinct queries than the cache holds.
	for i := range 300 {
		q := fmt.Sprintf("SELECT COUNT(*) FROM m WHERE id >= %d", i%60)
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := max(50-i%60, 0); n != want {
			t.Fatalf("%s = %d, want %d", q, n, want)
		}
	}
	// A script: both statements run.
	if _, err := db.ExecContext(ctx, "DELETE FROM m WHERE id = 1; DELETE FROM m WHERE id = 2;"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM m").Scan(&n); err != nil || n != 48 {
		t.Fatalf("after the script %d rows, %v; want 48", n, err)
	}
	// An error in a cached statement leaves it usable.
	if _, err := db.ExecContext(ctx, "INSERT INTO m (id, body) VALUES ($1, $2)", 3, "dup"); err == nil {
		t.Fatal("a duplicate primary key was accepted")
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO m (id, body) VALUES ($1, $2)", 100, "new"); err != nil {
		t.Fatalf("the statement after its error: %v", err)
	}
}
