//go:build bench

package bench

import (
	"testing"
	"time"
)

// The soak judges each bridge process from warm after its start: a restart begins a new
// life, and the samples before a life's warm mark are left out of it.
func TestLifeWindowsAndRanges(t *testing.T) {
	warm := 10 * time.Minute
	var samples []soakSample
	for m := range 90 {
		life := time.Duration(m) * time.Minute
		conns := 5
		if m >= 45 { // the restart
			life -= 45 * time.Minute
			conns = 2
		}
		samples = append(samples, soakSample{at: time.Duration(m) * time.Minute, life: life, dbConns: conns, connLoops: 8 + 2*(m%3)})
	}
	lives := lifeWindows(samples, warm)
	if len(lives) != 2 {
		t.Fatalf("%d lives, want 2", len(lives))
	}
	if first, n := lives[0][0].at, len(lives[0]); first != 10*time.Minute || n != 35 {
		t.Fatalf("first life from %s with %d samples, want from 10m with 35", first, n)
	}
	if first, n := lives[1][0].at, len(lives[1]); first != 55*time.Minute || n != 35 {
		t.Fatalf("second life from %s with %d samples, want from 55m with 35", first, n)
	}
	if got := lifeRanges(lives, dbConnsOf); got != "5–5, 2–2" {
		t.Fatalf("SQLite connections per life %q, want \"5–5, 2–2\"", got)
	}
	if got := lifeRanges(lives, connsOf); got != "4–6, 4–6" {
		t.Fatalf("HTTP connections per life %q, want \"4–6, 4–6\"", got)
	}
}
