package mautrixfix

import (
	"fmt"
	"net"

	"maunium.net/go/mautrix/bridgev2/matrix"
)

// AppserviceAddressTaken tries the address the appservice's HTTP listener will listen on.
// mautrix starts that listener in a goroutine and, when listening fails, logs one error and
// runs on without it: a bridge that never hears from the homeserver, and when the port's
// holder is another copy of the bridge, two bridges on one WeChat session and database,
// both bridging every message. Trying first lets the bridge refuse to start instead.
func AppserviceAddressTaken(mc *matrix.Connector) error {
	if mc == nil || mc.AS == nil || mc.Config == nil {
		return nil
	}
	hs := mc.Config.Homeserver
	if hs.Websocket || len(hs.WSProxy) > 0 || mc.Config.AppService.NoServer {
		return nil
	}
	h := mc.AS.Host
	if h.IsUnixSocket() || !h.IsConfigured() {
		return nil // a unix socket is unlinked and made anew by mautrix
	}
	ln, err := net.Listen("tcp", h.Address())
	if err != nil {
		return fmt.Errorf("appservice address %s: %w", h.Address(), err)
	}
	return ln.Close()
}
