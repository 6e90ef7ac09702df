package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A config is edited the way a user edits it: the values change, the comments and the
// rest stay; list entries are addressed by number.
func TestEditConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	orig := `# top comment
network:
    # the server
    server_url: ""
logging:
    min_level: debug
    writers:
        - type: stdout
          min_level: warn
        - type: file
          min_level: debug
`
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := EditConfig(path,
		Setting{Path: "network.server_url", Value: "http://127.0.0.1:1"},
		Setting{Path: "network.early_logout_window", Value: "8s"},
		Setting{Path: "logging.writers.1.min_level", Value: "info"},
	); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Network struct {
			ServerURL string `yaml:"server_url"`
			Window    string `yaml:"early_logout_window"`
		} `yaml:"network"`
		Logging struct {
			Writers []struct {
				Type     string `yaml:"type"`
				MinLevel string `yaml:"min_level"`
			} `yaml:"writers"`
		} `yaml:"logging"`
	}
	if err := ReadConfig(path, &got); err != nil {
		t.Fatal(err)
	}
	if got.Network.ServerURL != "http://127.0.0.1:1" || got.Network.Window != "8s" ||
		len(got.Logging.Writers) != 2 || got.Logging.Writers[0].MinLevel != "warn" || got.Logging.Writers[1].MinLevel != "info" {
		t.Errorf("after the edit: %+v", got)
	}
	b, _ := os.ReadFile(path)
	for _, c := range []string{"# top comment", "# the server"} {
		if !strings.Contains(string(b), c) {
			t.Errorf("the comment %q is gone:\n%s", c, b)
		}
	}
	if err := EditConfig(path, Setting{Path: "logging.writers.2.min_level", Value: "x"}); err == nil {
		t.Error("an entry past the end of a list was accepted")
	}
}
