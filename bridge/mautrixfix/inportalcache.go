package mautrixfix

import (
	"reflect"
	"unsafe"

	"go.mau.fi/util/exsync"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/networkid"
)

// EnsureInPortalCache gives a UserLogin made by User.NewLogin the in-portal cache that
// mautrix-go v0.32.0 forgets there (bridgev2/userlogin.go builds it only when loading
// logins at start). Without it UserLogin.MarkInPortal, which QueueRemoteEvent calls for
// every WeChat event, upserts a user_portal row and asks the state store whether the
// user is invited, on every message, until the bridge restarts: 16 % of the bridge's CPU in
// the benchmark's burst. The field is unexported, hence reflection; when a mautrix-go
// version renames or retypes it, this does nothing (TestNewLoginInPortalCache then fails
// and says so).
func EnsureInPortalCache(ul *bridgev2.UserLogin) bool {
	f := reflect.ValueOf(ul).Elem().FieldByName("inPortalCache")
	want := reflect.TypeOf((*exsync.Set[networkid.PortalKey])(nil))
	if !f.IsValid() || f.Type() != want {
		return false
	}
	f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	if f.IsNil() {
		f.Set(reflect.ValueOf(exsync.NewSet[networkid.PortalKey]()))
	}
	return true
}
