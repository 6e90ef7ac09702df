package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The test binary doubles as the bridge binary, so the test runs the real `-e` path.
func TestMain(m *testing.M) {
	if os.Getenv("WXBRIDGE_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// config.example.yaml in the repository must be exactly what `wxbridge -e` writes.
func TestExampleConfigIsCurrent(t *testing.T) {
	out := filepath.Join(t.TempDir(), "config.yaml")
	cmd := exec.Command(os.Args[0], "-e", "-c", out)
	cmd.Env = append(os.Environ(), "WXBRIDGE_TEST_RUN_MAIN=1")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wxbridge -e: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("config.example.yaml differs from what `wxbridge -e` writes; regenerate it with `go run ./cmd/wxbridge -e -c config.example.yaml`")
	}
}
