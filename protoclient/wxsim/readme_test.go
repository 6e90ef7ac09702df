package wxsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// README.md in this directory is the documentation of the control API for people who
// drive wxsim from scripts and other languages. These tests hold it to the code: every
// call the server serves is in its route table and every call in the table is served,
// and every setting is listed with its real default.

// readmeRows returns the cells of README.md's table rows, by the heading they stand
// under (without its #s).
func readmeRows(t *testing.T) map[string][][]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][][]string{}
	heading := ""
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		case strings.HasPrefix(line, "|") && !strings.HasPrefix(line, "|---"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows[heading] = append(rows[heading], cells)
		}
	}
	return rows
}

var routeCell = regexp.MustCompile("^`(GET|POST|PUT|PATCH|DELETE) (" + regexp.QuoteMeta(controlPrefix) + "/[^` ]+)`$")

func TestREADMEListsEveryControlRouteAndNoOther(t *testing.T) {
	documented := map[string]bool{}
	for heading, rows := range readmeRows(t) {
		for _, cells := range rows {
			m := routeCell.FindStringSubmatch(cells[0])
			if m == nil {
				if strings.Contains(cells[0], controlPrefix) {
					t.Errorf("README.md, %s: the row of %s does not start with one `METHOD PATH`", heading, cells[0])
				}
				continue
			}
			if heading != "Routes" {
				t.Errorf("README.md: %s is listed under %q, not in the route table", cells[0], heading)
			}
			call := m[1] + " " + m[2]
			if documented[call] {
				t.Errorf("README.md lists %s twice", call)
			}
			documented[call] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range controlRoutes {
		call := rt.method + " " + controlPrefix + rt.path
		served[call] = true
		if !documented[call] {
			t.Errorf("wxsim serves %s, but README.md's route table does not list it", call)
		}
	}
	s := New(Options{})
	defer s.Close()
	placeholder := regexp.MustCompile(`\{[a-z]+\}`)
	for call := range documented {
		if !served[call] {
			t.Errorf("README.md lists %s, but wxsim does not serve it", call)
		}
		// And the server really answers it, with an empty body and made-up ids.
		method, path, _ := strings.Cut(call, " ")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(method, placeholder.ReplaceAllString(path, "x"), nil))
		if w.Code == http.StatusMethodNotAllowed || strings.Contains(w.Body.String(), "no such control call") {
			t.Errorf("%s answers %d %s", call, w.Code, strings.TrimSpace(w.Body.String()))
		}
	}
}

func TestREADMEListsEverySettingWithItsDefault(t *testing.T) {
	documented := map[string]string{}
	for _, cells := range readmeRows(t)["Settings"] {
		if len(cells) < 3 || cells[0] == "setting" {
			continue
		}
		documented[strings.Trim(cells[0], "`")] = strings.Trim(cells[1], "`")
	}
	def := reflect.ValueOf(DefaultSettings())
	keys := map[string]bool{}
	for i := range def.NumField() {
		key, _, _ := strings.Cut(def.Type().Field(i).Tag.Get("json"), ",")
		keys[key] = true
		want, err := json.Marshal(def.Field(i).Interface())
		if err != nil {
			t.Fatal(err)
		}
		got, ok := documented[key]
		switch {
		case !ok:
			t.Errorf("setting %s is not in README.md's settings table", key)
		case got != string(want):
			t.Errorf("README.md gives %s the default %s; it is %s", key, got, want)
		}
	}
	for key := range documented {
		if !keys[key] {
			t.Errorf("README.md lists a setting %s that wxsim does not have", key)
		}
	}
}
