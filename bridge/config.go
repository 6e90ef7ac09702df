package bridge

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"
	"time"

	up "go.mau.fi/util/configupgrade"
)

//go:embed example-config.yaml
var ExampleConfig string

// Config is the network section of the bridge config.
type Config struct {
	ServerURL           string `yaml:"server_url"`
	DisplaynameTemplate string `yaml:"displayname_template"`
	GroupNameTemplate   string `yaml:"group_name_template"`
	RemarkNamesInDMs    bool   `yaml:"remark_names_in_dms"`
	RecentChatLimit     int    `yaml:"recent_chat_limit"`
	// OfficialAccounts: where official accounts' messages go (OfficialAccountsRoom,
	// …Separate, …Ignore).
	OfficialAccounts string      `yaml:"official_accounts"`
	Media            MediaConfig `yaml:"media"`
	// EarlyLogoutWindow: a session WeChat ends sooner than this after its login was
	// refused, not expired (relogin.go); 0 turns the distinction off.
	EarlyLogoutWindow time.Duration `yaml:"early_logout_window"`
	// AutoReloginInterval: at most one automatic push login per login in this time.
	AutoReloginInterval time.Duration `yaml:"auto_relogin_interval"`

	displaynameTmpl *template.Template
	groupNameTmpl   *template.Template
}

// The values of network.official_accounts.
const (
	OfficialAccountsRoom     = "room"     // one room per login for all of them
	OfficialAccountsSeparate = "separate" // a room each, like any contact
	OfficialAccountsIgnore   = "ignore"   // not bridged
)

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
	helper.Copy(up.Str, "official_accounts")
	helper.Copy(up.Int, "media", "max_download_size")
	helper.Copy(up.Int, "media", "max_upload_size")
	for _, key := range []string{"early_logout_window", "auto_relogin_interval"} {
		// A bare 0 is an int in YAML, which does not decode into a duration; any other
		// number is copied and refused at load with the line it is on.
		if v, ok := helper.Get(up.Int, key); ok && v == "0" {
			helper.Set(up.Str, "0s", key)
		} else {
			helper.Copy(up.Str|up.Int, key)
		}
	}
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
	switch c.OfficialAccounts {
	case OfficialAccountsRoom, OfficialAccountsSeparate, OfficialAccountsIgnore:
	default:
		return fmt.Errorf("network.official_accounts is %q; it must be room, separate or ignore", c.OfficialAccounts)
	}
	if c.Media.MaxDownloadSize <= 0 || c.Media.MaxUploadSize <= 0 {
		return fmt.Errorf("network.media sizes must be positive")
	}
	if c.EarlyLogoutWindow < 0 || c.AutoReloginInterval < 0 {
		return fmt.Errorf("network.early_logout_window and network.auto_relogin_interval must not be negative")
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
