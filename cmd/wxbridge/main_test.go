package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// `wxbridge --version` names the commit the binary was built from, as the builds pass it:
// -ldflags "-X main.Commit=$(git rev-parse HEAD)" (README, test/e2e/run, the Dockerfile's
// COMMIT build argument). Without a release tag, mautrix's format is v<version>+dev.<8 hex>;
// --version-json has the whole commit.
func TestVersionNamesCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const (
		commit    = "0123456789abcdef0123456789abcdef01234567"
		buildTime = "2026-01-02T03:04:05Z"
	)
	bin := filepath.Join(t.TempDir(), "wxbridge")
	// The same build as test/e2e/run's, so that both share the build cache.
	build := exec.Command("go", "build", "-ldflags", "-X main.Commit="+commit+" -X main.BuildTime="+buildTime, "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("wxbridge --version: %v\n%s", err, out)
	}
	want := "wxbridge v" + m.Version + "+dev." + commit[:8] + " (built at Fri, 02 Jan 2026 03:04:05 UTC"
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("wxbridge --version printed %q, want it to start with %q", out, want)
	}

	out, err = exec.Command(bin, "--version-json").Output()
	if err != nil {
		t.Fatalf("wxbridge --version-json: %v", err)
	}
	var v struct{ Commit, FormattedVersion string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("wxbridge --version-json: %v\n%s", err, out)
	}
	if v.Commit != commit || v.FormattedVersion != "v"+m.Version+"+dev."+commit[:8] {
		t.Errorf("wxbridge --version-json: commit %q, version %q; want %q and v%s+dev.%s", v.Commit, v.FormattedVersion, commit, m.Version, commit[:8])
	}
}
