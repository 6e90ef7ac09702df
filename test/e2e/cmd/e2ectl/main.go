// Command e2ectl prepares the files of an end-to-end run of wxbridge (test/e2e/run):
//
//	e2ectl dp-registration -out FILE -server NAME
//	    writes a second appservice registration used only for double puppeting: no URL,
//	    a non-exclusive namespace over every user of the server, fresh tokens.
//	e2ectl bridge-config -config FILE -hs-url URL -server NAME -as-port N -wxsim URL -dir DIR [-dp-registration FILE] [-admin MXID]...
//	        [-as-address URL] [-status-endpoint URL] [-appservice-id ID -bot-username NAME -username-template TMPL]
//	        [-encryption [-hs synapse]]
//	    edits the config written by `wxbridge -e` in place (comments kept): homeserver,
//	    appservice listener, SQLite database, permissions, network.server_url, a 2 MiB
//	    media download limit, message status events, bridged m.notice, a random
//	    provisioning secret, logging, double puppeting; optionally
//	    the address the homeserver reaches the bridge at (e.g. through a reverse proxy),
//	    homeserver.status_endpoint, and the appservice's id and namespaces (a second bridge
//	    on the same homeserver); with -encryption, end-to-bridge encryption on and every
//	    portal encrypted, with what the homeserver -hs can do (encryption.go).
//	e2ectl demo-setup -hs-url URL -wxsim URL -user NAME -password PW -wxid WXID
//	    registers a Matrix user and creates a WeChat account with contacts and a group in wxsim.
//
// It edits YAML through gopkg.in/yaml.v3 nodes, never with text substitution.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"

	"wxbridge/protoclient/wxsim"
	"wxbridge/test/harness"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "dp-registration":
		err = dpRegistration(os.Args[2:])
	case "bridge-config":
		err = bridgeConfig(os.Args[2:])
	case "demo-setup":
		err = demoSetup(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2ectl "+os.Args[1]+":", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: e2ectl dp-registration|bridge-config|demo-setup [flags]")
	os.Exit(2)
}

// dpRegistration writes the double-puppeting registration: the bridge masquerades as the
// Matrix users with its as_token (double_puppet.secrets "as_token:…").
func dpRegistration(args []string) error {
	fs := flag.NewFlagSet("dp-registration", flag.ExitOnError)
	out := fs.String("out", "", "registration file to write")
	server := fs.String("server", "localhost", "homeserver server_name")
	id := fs.String("id", "wxbridge-doublepuppet", "appservice id")
	_ = fs.Parse(args)
	if *out == "" {
		return errors.New("-out is required")
	}
	reg := appservice.CreateRegistration()
	reg.ID = *id
	reg.URL = "" // nothing is pushed to it
	reg.SenderLocalpart = "wxbridge-doublepuppet-" + strings.ToLower(reg.AppToken[:8])
	rateLimited := false
	reg.RateLimited = &rateLimited
	reg.Namespaces.UserIDs.Register(regexp.MustCompile("^@.*:"+regexp.QuoteMeta(*server)+"$"), false)
	return reg.Save(*out)
}

func bridgeConfig(args []string) error {
	fs := flag.NewFlagSet("bridge-config", flag.ExitOnError)
	path := fs.String("config", "", "config file written by wxbridge -e (edited in place)")
	hsURL := fs.String("hs-url", "", "homeserver client-server URL")
	server := fs.String("server", "localhost", "homeserver server_name")
	asPort := fs.Int("as-port", 0, "appservice listener port on 127.0.0.1")
	wxsimURL := fs.String("wxsim", "", "wxsim base URL (network.server_url)")
	dir := fs.String("dir", "", "run directory (database, logs)")
	dpReg := fs.String("dp-registration", "", "double-puppet registration (optional)")
	stdoutLevel := fs.String("stdout-level", "warn", "minimum level of the stdout log writer")
	postgresURI := fs.String("postgres", "", "PostgreSQL URI; empty: SQLite in -dir")
	encryption := fs.Bool("encryption", false, "end-to-bridge encryption on, portals encrypted (a cgo + goolm bridge; see encryption.go)")
	hsKind := fs.String("hs", "dendrite", "the homeserver: dendrite or synapse (what -encryption can use there)")
	asAddress := fs.String("as-address", "", "appservice.address, where the homeserver reaches the bridge (default http://127.0.0.1:<as-port>)")
	statusEndpoint := fs.String("status-endpoint", "", "homeserver.status_endpoint: URL the bridge POSTs its bridge states to (optional)")
	asID := fs.String("appservice-id", "", "appservice.id (optional; a second bridge needs its own)")
	botUsername := fs.String("bot-username", "", "appservice.bot.username (optional)")
	usernameTemplate := fs.String("username-template", "", "appservice.username_template, e.g. wechat2_{{.}} (optional)")
	earlyLogout := fs.String("early-logout-window", "", "network.early_logout_window, e.g. 0s (optional)")
	var admins multiFlag
	fs.Var(&admins, "admin", "MXID with admin permission (repeatable)")
	_ = fs.Parse(args)
	if *path == "" || *hsURL == "" || *asPort == 0 || *wxsimURL == "" || *dir == "" {
		return errors.New("-config, -hs-url, -as-port, -wxsim and -dir are required")
	}
	port := strconv.Itoa(*asPort)
	if *asAddress == "" {
		*asAddress = "http://127.0.0.1:" + port
	}
	provSecret, err := randomSecret()
	if err != nil {
		return err
	}
	sets := []harness.Setting{
		{Path: "homeserver.address", Value: *hsURL},
		{Path: "homeserver.domain", Value: *server},
		{Path: "homeserver.software", Value: "standard"},
		{Path: "appservice.address", Value: *asAddress},
		{Path: "appservice.hostname", Value: "127.0.0.1"},
		{Path: "appservice.port", Value: *asPort},
		{Path: "database.type", Value: dbType(*postgresURI)},
		{Path: "database.uri", Value: dbURI(*postgresURI, *dir)},
		{Path: "network.server_url", Value: *wxsimURL},
		// Small enough that a test file can be over it (WeChat → Matrix: a notice instead).
		{Path: "network.media.max_download_size", Value: 2 << 20},
		// Issue 3: a sent message shows as delivered or failed (com.beeper.message_send_status).
		{Path: "matrix.message_status_events", Value: true},
		// m.notice from Matrix is text on WeChat like m.text (issue 4, Matrix → WeChat).
		{Path: "bridge.bridge_notices", Value: true},
		// A known secret: the tests use the provisioning API (create_group).
		{Path: "provisioning.shared_secret", Value: provSecret},
		// Issue 15, relay mode: a logged-in user may let their own login relay in their
		// portals (`set-relay`), as on a bridge whose operator allows it; with admin_only
		// only admins and the default_relays could (relay_test.go).
		{Path: "bridge.relay.enabled", Value: true},
		{Path: "bridge.relay.admin_only", Value: false},
		{Path: "logging", Value: map[string]any{
			"min_level": "debug",
			"writers": []any{
				map[string]any{"type": "stdout", "format": "pretty", "min_level": *stdoutLevel},
				map[string]any{"type": "file", "format": "json", "filename": *dir + "/bridge.log"},
			},
		}},
	}
	// @mallory is a local user the bridge must refuse to log in (issue 5, security); @lou
	// writes in a portal only through a relay (issue 15, relay_test.go).
	perms := map[string]any{"*": "relay", *server: "user", "@mallory:" + *server: "relay", "@lou:" + *server: "relay"}
	for _, a := range admins {
		perms[a] = "admin"
	}
	sets = append(sets, harness.Setting{Path: "bridge.permissions", Value: perms},
		// A chat muted or pinned on the phone later follows in Matrix (README, "Muted
		// and pinned chats"): what a user sets who wants the phone's changes mirrored.
		harness.Setting{Path: "bridge.tag_only_on_create", Value: false},
		harness.Setting{Path: "bridge.mute_only_on_create", Value: false})
	if *dpReg != "" {
		reg, err := appservice.LoadRegistration(*dpReg)
		if err != nil {
			return err
		}
		sets = append(sets, harness.Setting{Path: "double_puppet.secrets", Value: map[string]any{*server: "as_token:" + reg.AppToken}})
	}
	for _, opt := range []struct{ path, value string }{
		{"homeserver.status_endpoint", *statusEndpoint},
		{"appservice.id", *asID},
		{"appservice.bot.username", *botUsername},
		{"appservice.username_template", *usernameTemplate},
		{"network.early_logout_window", *earlyLogout},
	} {
		if opt.value != "" {
			sets = append(sets, harness.Setting{Path: opt.path, Value: opt.value})
		}
	}
	if *encryption {
		enc, err := encryptionSettings(*hsKind)
		if err != nil {
			return err
		}
		sets = append(sets, enc...)
	}
	return harness.EditConfig(*path, sets...)
}

// randomSecret is a fresh provisioning secret (bridgev2 wants at least 16 characters).
func randomSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "e2e-" + hex.EncodeToString(b), nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func demoSetup(args []string) error {
	fs := flag.NewFlagSet("demo-setup", flag.ExitOnError)
	hsURL := fs.String("hs-url", "", "homeserver URL")
	wxsimURL := fs.String("wxsim", "", "wxsim base URL")
	user := fs.String("user", "demo", "Matrix localpart to register")
	password := fs.String("password", "", "password of the Matrix user")
	wxid := fs.String("wxid", "wxid_demo", "WeChat account to create in wxsim")
	_ = fs.Parse(args)
	if *hsURL == "" || *wxsimURL == "" || *password == "" {
		return errors.New("-hs-url, -wxsim and -password are required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := mautrix.NewClient(*hsURL, "", "")
	if err != nil {
		return err
	}
	resp, err := cli.RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: *user, Password: *password, InhibitLogin: true})
	if err != nil {
		return fmt.Errorf("register %s: %w", *user, err)
	}
	ctl := &wxsim.Control{BaseURL: *wxsimURL}
	if _, err := ctl.CreateAccount(ctx, wxsim.AccountSpec{Wxid: *wxid, Nickname: "Demo", Uin: 4242, Host: "wx2.qq.com"}); err != nil {
		return err
	}
	for _, c := range []struct{ wxid, nick string }{{"wxid_bob", "Bob"}, {"wxid_carol", "Carol"}} {
		nick := c.nick
		if _, err := ctl.AddContact(ctx, *wxid, wxsim.ContactSpec{Wxid: c.wxid, Nickname: &nick}); err != nil {
			return err
		}
	}
	if _, err := ctl.CreateGroup(ctx, *wxid, wxsim.GroupSpec{ID: "12345@chatroom", Name: "Family", Members: []string{"wxid_bob", "wxid_carol"}}); err != nil {
		return err
	}
	fmt.Println(resp.UserID)
	return nil
}

func dbType(postgresURI string) string {
	if postgresURI != "" {
		return "postgres"
	}
	return "sqlite3-fk-wal"
}

func dbURI(postgresURI, dir string) string {
	if postgresURI != "" {
		return postgresURI
	}
	return "file:" + dir + "/wxbridge.db?_txlock=immediate"
}
