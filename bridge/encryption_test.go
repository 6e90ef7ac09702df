package bridge

import (
	"errors"
	"testing"

	"maunium.net/go/mautrix/bridgev2/bridgeconfig"
)

func TestCheckEncryption(t *testing.T) {
	cases := []struct {
		name  string
		cfg   bridgeconfig.EncryptionConfig
		built bool
		want  error
	}{
		{"off, static", bridgeconfig.EncryptionConfig{}, false, nil},
		{"allow only, static: unencrypted rooms, mautrix warns", bridgeconfig.EncryptionConfig{Allow: true}, false, nil},
		{"default, static", bridgeconfig.EncryptionConfig{Allow: true, Default: true}, false, errNoEncryption},
		{"require, static", bridgeconfig.EncryptionConfig{Allow: true, Require: true}, false, errNoEncryption},
		{"default, goolm", bridgeconfig.EncryptionConfig{Allow: true, Default: true}, true, nil},
		{"default without allow", bridgeconfig.EncryptionConfig{Default: true}, true, errEncryptionNotAllowed},
	}
	for _, c := range cases {
		if got := checkEncryption(&c.cfg, c.built); !errors.Is(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
