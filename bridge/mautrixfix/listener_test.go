package mautrixfix

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/bridgev2/bridgeconfig"
	"maunium.net/go/mautrix/bridgev2/matrix"
)

func connectorListeningOn(host appservice.HostConfig) *matrix.Connector {
	return &matrix.Connector{AS: &appservice.AppService{Host: host}, Config: &bridgeconfig.Config{}}
}

// A port someone else listens on is found before the bridge starts; a free one, a unix
// socket and the websocket mode pass.
func TestAppserviceAddressTaken(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(held.Addr().(*net.TCPAddr).Port)
	mc := connectorListeningOn(appservice.HostConfig{Hostname: "127.0.0.1", Port: port})
	if err := AppserviceAddressTaken(mc); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("port %d held by another listener: got %v, want address in use", port, err)
	}
	mc.Config.Homeserver.Websocket = true
	if err := AppserviceAddressTaken(mc); err != nil {
		t.Fatalf("websocket mode listens on nothing, got %v", err)
	}
	mc.Config.Homeserver.Websocket = false
	held.Close()
	if err := AppserviceAddressTaken(mc); err != nil {
		t.Fatalf("port %d free again: %v", port, err)
	}
	// The check itself must leave the port free for mautrix's listener.
	again, err := net.Listen("tcp", mc.AS.Host.Address())
	if err != nil {
		t.Fatalf("the check kept the port: %v", err)
	}
	again.Close()
	if err := AppserviceAddressTaken(connectorListeningOn(appservice.HostConfig{Hostname: "/run/wxbridge/as.sock"})); err != nil {
		t.Fatalf("unix socket: %v", err)
	}
}
