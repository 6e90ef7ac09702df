package bridge

import (
	"errors"

	"maunium.net/go/mautrix/bridgev2/bridgeconfig"
)

// A static build has no end-to-bridge encryption, yet bridgev2 would still create portals
// with encryption on and then fail every message in them. Refusing to start says what is
// wrong; a bridge that silently fails every message does not.
var (
	errNoEncryption = errors.New("encryption.default or encryption.require is on, but this wxbridge was built " +
		"without end-to-bridge encryption (CGO_ENABLED=0): turn them off in the config, or use the " +
		"CGO_ENABLED=1 -tags goolm build (the Docker image is one)")
	errEncryptionNotAllowed = errors.New("encryption.default or encryption.require is on, but encryption.allow is off: turn it on")
)

// checkEncryption refuses a config that asks for encrypted rooms the bridge cannot
// encrypt. With only encryption.allow on, a static build keeps rooms unencrypted and
// mautrix warns.
func checkEncryption(cfg *bridgeconfig.EncryptionConfig, built bool) error {
	if !cfg.Default && !cfg.Require {
		return nil
	}
	if !built {
		return errNoEncryption
	}
	if !cfg.Allow {
		return errEncryptionNotAllowed
	}
	return nil
}
