//go:build bench

package bench

import (
	"os"
	"path/filepath"
	"testing"
)

// The soak splits the bridge's RSS by what the kernel counts it as, and counts its SQLite
// connections by the descriptors on the database file; both read /proc, checked here on
// this process.
func TestProcStatusSplitsRSS(t *testing.T) {
	m, err := procStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	rss, err := rssBytes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || m["RssAnon"] <= 0 || m["RssFile"] <= 0 {
		t.Fatalf("VmRSS %d, RssAnon %d, RssFile %d: want all above zero", rss, m["RssAnon"], m["RssFile"])
	}
	// The kernel counts VmRSS as the sum of the three.
	if sum := m["RssAnon"] + m["RssFile"] + m["RssShmem"]; sum != m["VmRSS"] {
		t.Fatalf("RssAnon+RssFile+RssShmem = %d, VmRSS %d", sum, m["VmRSS"])
	}
}

func TestCountFDs(t *testing.T) {
	dir := t.TempDir()
	path, other := filepath.Join(dir, "wxbridge.db"), filepath.Join(dir, "wxbridge.db-wal")
	all0, before := countFDs(os.Getpid(), path)
	for _, p := range []string{path, path, other} {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	all, got := countFDs(os.Getpid(), path)
	if got != before+2 {
		t.Fatalf("%d descriptors on %s, want %d (the -wal file is not the database)", got, path, before+2)
	}
	if all != all0+3 {
		t.Fatalf("%d descriptors open, want %d", all, all0+3)
	}
}
