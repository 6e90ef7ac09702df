package mautrixfix

import (
	"net/http"

	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/matrix"
)

// KeepIdleDBConnections keeps as many database connections open as may be used at once.
// mautrix's default config keeps one idle: with several portals writing at the same time
// (the connector's portals of one batch), database/sql then closes a connection after nearly every
// query and opens another, which for SQLite means running the connection PRAGMAs again and
// losing the connection's prepared statements (bridge/sqliteshim), for PostgreSQL a new login.
func KeepIdleDBConnections(br *bridgev2.Bridge) {
	mc, ok := br.Matrix.(*matrix.Connector)
	if !ok || mc.Config == nil || br.DB == nil {
		return
	}
	c := mc.Config.Database
	if c.MaxOpenConns > 0 && c.MaxIdleConns < c.MaxOpenConns {
		br.Log.Debug().Int("max_idle_conns", c.MaxIdleConns).Int("max_open_conns", c.MaxOpenConns).
			Msg("Keeping max_open_conns database connections idle instead of max_idle_conns")
		br.DB.RawDB.SetMaxIdleConns(c.MaxOpenConns)
	}
}

// KeepHomeserverConnections lets the appservice's HTTP client keep its connections to the
// homeserver. mautrix uses Go's default transport, which keeps two idle per host: with
// many portals sending at once, the rest were dialled and closed again for
// nearly every event (a TCP handshake, two goroutines and a close, on both sides). Every
// intent shares this *http.Client, so changing its transport reaches them all.
func KeepHomeserverConnections(as *appservice.AppService, idle int) {
	if as == nil || as.HTTPClient == nil {
		return
	}
	switch t := as.HTTPClient.Transport.(type) {
	case nil:
		def, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			return
		}
		c := def.Clone()
		c.MaxIdleConnsPerHost = idle
		as.HTTPClient.Transport = c
	case *http.Transport: // a unix socket (homeserver.address unix://…)
		if t.MaxIdleConnsPerHost < idle {
			t.MaxIdleConnsPerHost = idle
		}
	}
}
