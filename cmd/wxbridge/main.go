// Command wxbridge is the Matrix–WeChat puppeting bridge.
package main

import (
	"os"
	"runtime/debug"

	"maunium.net/go/mautrix/bridgev2/matrix/mxmain"

	"wxbridge/bridge"
	"wxbridge/bridge/mautrixfix"
)

// Set by the build (-ldflags "-X main.Tag=… -X main.Commit=… -X main.BuildTime=…").
var (
	Tag       = "unknown"
	Commit    = "unknown"
	BuildTime = "unknown"
)

var m = mxmain.BridgeMain{
	Name:        "wxbridge",
	URL:         "https://github.com/wxbridge/wxbridge",
	Description: "A Matrix–WeChat puppeting bridge.",
	Version:     "0.1.0",
	Connector:   &bridge.WeChatConnector{},
}

func main() {
	// `wxbridge healthcheck [URL]`: for container health checks, see healthcheck.go.
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck(os.Args[2:], os.Stderr))
	}
	// Most of a bridge's heap is the logins' state, alive as long as they are; Go's
	// default lets the heap grow to twice that between collections. A quarter of that
	// is the better trade for a process holding many idle logins (test/bench/HISTORY.md,
	// "GOGC 25"). GOGC set in the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	m.InitVersion(Tag, Commit, BuildTime)
	// After mxmain has added its commands: the workaround replaces the command processor.
	m.PostInit = func() { mautrixfix.OwnCommandLogger(m.Bridge) }
	m.Run()
}
