package bridge

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"

	up "go.mau.fi/util/configupgrade"
)

//go:embed example-config.yaml
var ExampleConfig string

// Config is the network section of the bridge config.
type Config struct {
	ServerURL           string      `yaml:"server_url"`
	DisplaynameTemplate string      `yaml:"displayname_template"`
	GroupNameTemplate   string      `yaml:"group_name_template"`
	RemarkNamesInDMs    bool        `yaml:"remark_names_in_dms"`
	RecentChatLimit     int         `yaml:"recent_chat_limit"`
	Media               MediaConfig `yaml:"media"`

	displaynameTmpl *template.Template
	groupNameTmpl   *template.Template
}

// MediaConfig bounds media in both directions.
type MediaConfig struct {
	MaxDownloadSize int64 `yaml:"max_download_size"`
	MaxUploadSize   int64 `yaml:"max_upload_size"`
}

func upgradeConfig(helper up.Helper) {
	helper.Copy(up.Str, "server_url")
	helper.Copy(up.Str, "displayname_template")
	helper.Copy(up.Str, "group_name_template")
	helper.Copy(up.Bool, "remark_names_in_dms")
	helper.Copy(up.Int, "recent_chat_limit")
	helper.Copy(up.Int, "media", "max_download_size")
	helper.Copy(up.Int, "media", "max_upload_size")
}

// DisplaynameParams are the variables of displayname_template.
type DisplaynameParams struct {
	Nickname string
	Alias    string
	ID       string
}

// GroupNameParams are the variables of group_name_template.
type GroupNameParams struct {
	Name string
}

func (c *Config) parse() error {
	var err error
	if c.displaynameTmpl, err = template.New("displayname").Parse(c.DisplaynameTemplate); err != nil {
		return fmt.Errorf("network.displayname_template: %w", err)
	}
	if c.groupNameTmpl, err = template.New("group_name").Parse(c.GroupNameTemplate); err != nil {
		return fmt.Errorf("network.group_name_template: %w", err)
	}
	if c.Media.MaxDownloadSize <= 0 || c.Media.MaxUploadSize <= 0 {
		return fmt.Errorf("network.media sizes must be positive")
	}
	return nil
}

func execTemplate(t *template.Template, data any, fallback string) string {
	var sb strings.Builder
	if t == nil || t.Execute(&sb, data) != nil {
		return fallback
	}
	if s := strings.TrimSpace(sb.String()); s != "" {
		return s
	}
	return fallback
}

// FormatDisplayname renders a ghost's name.
func (c *Config) FormatDisplayname(p DisplaynameParams) string {
	return execTemplate(c.displaynameTmpl, p, p.Nickname)
}

// FormatGroupName renders a group room's name.
func (c *Config) FormatGroupName(p GroupNameParams) string {
	return execTemplate(c.groupNameTmpl, p, p.Name)
}
