package main

import (
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"

	"gopkg.in/yaml.v3"
)

// docker-compose.example.yml (README, "Docker") is what users copy: it must be a compose
// file whose services depend only on each other, and the bridge's healthcheck must ask the
// image's own binary for mautrix's readiness endpoint on the port the example config listens on.
func TestComposeExample(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image     string         `yaml:"image"`
			DependsOn map[string]any `yaml:"depends_on"`
			Volumes   []string       `yaml:"volumes"`
			Ports     []string       `yaml:"ports"`
			Env       map[string]any `yaml:"environment"`
			Health    *struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("docker-compose.example.yml: %v", err)
	}
	// No compose tool at hand: the keys it uses must at least be compose's (a typo such as
	// depend_on would be ignored, or refused, by docker compose).
	var keys struct {
		Top      map[string]any `yaml:",inline"`
		Services map[string]map[string]any
	}
	if err := yaml.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	known := map[string][]string{
		"":            {"services"},
		"service":     {"image", "restart", "environment", "volumes", "ports", "depends_on", "healthcheck"},
		"healthcheck": {"test", "interval", "timeout", "retries", "start_period"},
		"depends_on":  {"condition"},
	}
	for k := range keys.Top {
		if !slices.Contains(known[""], k) {
			t.Errorf("top-level key %q: not one this file should use", k)
		}
	}
	for name, svc := range keys.Services {
		for k, v := range svc {
			if !slices.Contains(known["service"], k) {
				t.Errorf("service %s: key %q is not a compose service key used here", name, k)
			}
			if k != "healthcheck" && k != "depends_on" {
				continue
			}
			sub, _ := v.(map[string]any)
			for k2, v2 := range sub {
				if k == "depends_on" {
					dep, _ := v2.(map[string]any)
					for k3 := range dep {
						if !slices.Contains(known[k], k3) {
							t.Errorf("service %s: depends_on %s: key %q", name, k2, k3)
						}
					}
				} else if !slices.Contains(known[k], k2) {
					t.Errorf("service %s: healthcheck key %q", name, k2)
				}
			}
		}
	}
	for _, name := range []string{"postgres", "synapse", "wxbridge"} {
		if compose.Services[name].Image == "" {
			t.Errorf("service %s: missing, or no image", name)
		}
	}
	for name, s := range compose.Services {
		for dep := range s.DependsOn {
			if _, ok := compose.Services[dep]; !ok {
				t.Errorf("service %s depends on %s, which is not defined", name, dep)
			}
		}
	}
	bridge := compose.Services["wxbridge"]
	if !slices.Contains(bridge.Volumes, "./wxbridge:/data") {
		t.Errorf("wxbridge volumes %q: no ./wxbridge:/data", bridge.Volumes)
	}
	if bridge.Health == nil || len(bridge.Health.Test) != 4 ||
		!slices.Equal(bridge.Health.Test[:3], []string{"CMD", "/usr/bin/wxbridge", "healthcheck"}) {
		t.Fatalf("wxbridge healthcheck %+v: want [CMD /usr/bin/wxbridge healthcheck URL]", bridge.Health)
	}
	u, err := url.Parse(bridge.Health.Test[3])
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Appservice struct {
			Port int `yaml:"port"`
		} `yaml:"appservice"`
	}
	example, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(example, &cfg); err != nil {
		t.Fatal(err)
	}
	if u.Path != "/_matrix/mau/ready" || u.Port() != strconv.Itoa(cfg.Appservice.Port) {
		t.Errorf("wxbridge healthcheck URL %s: want /_matrix/mau/ready on appservice.port %d", u, cfg.Appservice.Port)
	}
}
