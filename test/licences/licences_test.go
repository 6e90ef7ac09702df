// Package licences checks that every module linked into wxbridge and wxsim is under a
// licence that can be combined with wxbridge's own, AGPL-3.0-or-later. It reads the
// licence files from the module cache (the modules are there once the code builds) and
// classifies them with github.com/google/licensecheck, so a new dependency under an
// incompatible or unknown licence fails `go test ./...`.
//
// It imports nothing of wxbridge.
package licences

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/licensecheck"
)

// compatible are the licences whose code may be linked into an AGPL-3.0-or-later
// program (permissive ones, the weak copylefts MPL-2.0 and LGPL, and the GNU v3 family).
var compatible = []string{
	"0BSD", "MIT", "MIT-0", "ISC", "BSD-2-Clause", "BSD-3-Clause", "BSD-3-Clause-Clear", "Zlib",
	"Apache-2.0", "MPL-2.0", "Unlicense", "CC0-1.0",
	"LGPL-2.1", "LGPL-2.1-or-later", "LGPL-3.0", "LGPL-3.0-or-later",
	"GPL-3.0", "GPL-3.0-or-later", "AGPL-3.0", "AGPL-3.0-or-later",
}

// module is what `go list -deps -json` says of a package's module.
type module struct {
	Path    string
	Version string
	Dir     string
	Main    bool
	Replace *module
}

// linkedModules are the modules of the packages the two binaries link, as the cgo + goolm
// build has them (the one with the most dependencies).
func linkedModules(t *testing.T) []module {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags", "goolm", "-json=Module,Standard", "wxbridge/cmd/wxbridge", "wxbridge/cmd/wxsim")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	var mods []module
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			Standard bool
			Module   *module
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Standard || p.Module == nil || p.Module.Main || seen[p.Module.Path] {
			continue
		}
		seen[p.Module.Path] = true
		mods = append(mods, *p.Module)
	}
	return mods
}

// licenceIDs are the licences licensecheck finds in a module's top-level licence files.
func licenceIDs(t *testing.T, dir string) (ids []string, files []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := strings.ToUpper(e.Name())
		if e.IsDir() || !(strings.HasPrefix(name, "LICENSE") || strings.HasPrefix(name, "LICENCE") || strings.HasPrefix(name, "COPYING")) {
			continue
		}
		text, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, e.Name())
		for _, m := range licensecheck.Scan(text).Match {
			if !slices.Contains(ids, m.ID) {
				ids = append(ids, m.ID)
			}
		}
	}
	return ids, files
}

func TestDependencyLicences(t *testing.T) {
	mods := linkedModules(t)
	if len(mods) < 10 {
		t.Fatalf("found only %d modules; go list did not see the binaries' dependencies", len(mods))
	}
	for _, m := range mods {
		dir := m.Dir
		if m.Replace != nil {
			if m.Replace.Version == "" {
				// A replacement by a directory in this repository (bridge/sqliteshim):
				// wxbridge's own code, under its LICENSE.
				continue
			}
			dir = m.Replace.Dir
		}
		ids, files := licenceIDs(t, dir)
		switch {
		case len(files) == 0:
			t.Errorf("%s %s has no licence file in %s", m.Path, m.Version, dir)
		case len(ids) == 0:
			t.Errorf("%s %s: licensecheck recognises no licence in %v", m.Path, m.Version, files)
		}
		for _, id := range ids {
			if !slices.Contains(compatible, id) {
				t.Errorf("%s %s is under %s (%v), which is not known to combine with AGPL-3.0-or-later", m.Path, m.Version, id, files)
			}
		}
		t.Logf("%s %s: %s", m.Path, m.Version, strings.Join(ids, ", "))
	}
}
