//go:build cgo && !nocrypto

package bridge

// buildHasEncryption mirrors the build tags of mautrix's bridgev2/matrix crypto helper.
const buildHasEncryption = true
