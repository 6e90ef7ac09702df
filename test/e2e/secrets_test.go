//go:build e2e

package e2e

import (
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/lib/pq"
	"gopkg.in/yaml.v3"
	_ "modernc.org/sqlite"
)

// TestMain runs the checks of the logs after every other test of the run, whichever were
// chosen with -test.run: they must see all the logs the run made.
func TestMain(m *testing.M) {
	code := m.Run()
	all := func(string, string) (bool, error) { return true, nil }
	if !testing.RunTests(all, []testing.InternalTest{
		{Name: "NoSecretsInLogs", F: noSecretsInLogs},
		{Name: "CommandFieldsStayWithTheCommand", F: commandFieldsStayWithTheCommand},
	}) && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// noSecretsInLogs: every log the run produced must be free of the WeChat sessions'
// secrets (skey, pass_ticket, wxsid, cookie values) and the appservice tokens. The
// bridge's own files must not be readable by other users.
func noSecretsInLogs(t *testing.T) {
	e := loadEnv(t)
	cfgYAML, err := os.ReadFile(e.bridge.Config)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Database struct{ Type, URI string } `yaml:"database"`
	}
	if err := yaml.Unmarshal(cfgYAML, &cfg); err != nil {
		t.Fatal(err)
	}
	driver, dsn := "sqlite", ""
	files := []string{e.bridge.Config, e.bridge.Registration, e.bridgeLog}
	if cfg.Database.Type == "postgres" {
		driver, dsn = "postgres", cfg.Database.URI
	} else {
		dbPath, _, _ := strings.Cut(strings.TrimPrefix(cfg.Database.URI, "file:"), "?")
		dsn = "file:" + dbPath + "?mode=ro"
		files = append(files, dbPath)
	}
	for _, p := range files {
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("stat %s: %v", p, err)
			continue
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: readable by others", p, st.Mode().Perm())
		}
	}

	secrets := map[string]string{}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open the bridge's database: %v", err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT metadata FROM user_login")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Session struct {
				Skey, Sid  string
				PassTicket string `json:"pass_ticket"`
				Cookies    []struct{ Name, Value string }
			}
		}
		if err := json.Unmarshal([]byte(raw), &meta); err != nil {
			t.Fatal(err)
		}
		// Names, never values, go into failure messages: a failing test must not leak
		// the secrets it looks for.
		s := meta.Session
		n := len(secrets)
		secrets[fmt.Sprintf("skey of session %d", n)] = s.Skey
		secrets[fmt.Sprintf("pass_ticket of session %d", n)] = s.PassTicket
		secrets[fmt.Sprintf("wxsid of session %d", n)] = s.Sid
		for _, c := range s.Cookies {
			// The credentials among the cookies; the others are numbers, times and a
			// language (wxuin, wxloadtime, wxpluginkey, mm_lang) that occur in any log.
			switch c.Name {
			case "wxsid", "webwx_data_ticket", "webwx_auth_ticket", "webwxuvid":
				secrets[fmt.Sprintf("cookie %s of session %d", c.Name, n)] = c.Value
			}
		}
	}
	if len(secrets) == 0 {
		// The whole suite logs in many times: without a session the check would pass
		// for nothing. A run of a few chosen tests may not log in at all.
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
			t.Skipf("no WeChat session in the bridge database after -test.run %q: nothing to check", f.Value.String())
		}
		t.Fatal("no WeChat session in the bridge database: nothing to check")
	}
	reg := readRegistration(t, e.bridge.Registration)
	secrets["as_token"], secrets["hs_token"] = reg.ASToken, reg.HSToken

	var logs []string
	filepath.Walk(e.runDir, func(p string, info os.FileInfo, err error) error {
		name := filepath.Base(p)
		if err == nil && !info.IsDir() && (strings.HasSuffix(name, ".log") || strings.Contains(name, "stdout") || strings.HasSuffix(name, ".out")) {
			logs = append(logs, p)
		}
		return nil
	})
	if len(logs) == 0 {
		t.Fatal("no logs found under the run directory")
	}
	for _, p := range logs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for what, val := range secrets {
			if val != "" && strings.Contains(string(data), val) {
				t.Errorf("%s appears in %s", what, p)
			}
		}
	}
	t.Logf("checked %d secrets in %d logs: %s", len(secrets), len(logs), strings.Join(logs, ", "))
}

// commandFieldsStayWithTheCommand: a management command's name is logged with that
// command only. mautrix-go added it to the logger of all Matrix events, so the lines of
// later commands and invites named every command before them (mautrixfix.OwnCommandLogger).
func commandFieldsStayWithTheCommand(t *testing.T) {
	e := loadEnv(t)
	var logs, lines, bad int
	filepath.Walk(e.runDir, func(p string, info os.FileInfo, err error) error {
		name := filepath.Base(p)
		if err != nil || info.IsDir() || !strings.HasPrefix(name, "bridge") || !strings.HasSuffix(name, ".log") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			return nil
		}
		logs++
		for i, l := range strings.Split(string(data), "\n") {
			if n := strings.Count(l, `"mx_command":`); n > 0 {
				lines++
				if n > 1 {
					if bad++; bad > 5 {
						continue
					}
					var msg struct{ Message string }
					_ = json.Unmarshal([]byte(l), &msg)
					t.Errorf("%s:%d names %d commands (%q)", p, i+1, n, msg.Message)
				}
			}
		}
		return nil
	})
	if logs == 0 {
		t.Fatal("no bridge logs found under the run directory")
	}
	if bad > 5 {
		t.Errorf("… and %d more lines that name more than one command", bad-5)
	}
	t.Logf("%d lines name a command in %d bridge logs", lines, logs)
}
