package main

import (
	"crypto/rand"
	"encoding/base64"

	"wxbridge/test/harness"
)

// encryptionSettings are the config edits of `bridge-config -encryption` (E2E_ENCRYPTION=1
// test/e2e/run, a CGO_ENABLED=1 -tags goolm bridge): end-to-bridge encryption on, and every
// portal created encrypted. The other encryption options are chosen for Dendrite v0.13.8:
//
//   - appservice: false. The appservice mode takes to-device events, device list changes
//     and one-time-key counts from the homeserver's transactions (MSC2409/MSC3202); Dendrite
//     v0.13.8 pushes none of them to appservices. With false the bridge bot gets its own
//     device with `m.login.application_service` (Dendrite offers that login type whenever an
//     appservice is registered) and long-polls /sync with it for to-device events.
//   - msc4190: false. MSC4190 creates the bot's device with PUT /devices/{id} under the
//     as_token, which Dendrite v0.13.8 does not implement (it needs MSC3202 device
//     masquerading too).
//   - self_sign: false. Cross-signing the bot's device uploads cross-signing keys, and
//     Dendrite v0.13.8 demands an m.login.password stage for that upload
//     (clientapi/routing/key_crosssigning.go); the bot has no password. Clients then see the
//     bot's device as unverified, which the default verification_levels (unverified) accept.
//
// require stays false: the management room is an unencrypted DM the user creates.
func encryptionSettings() ([]harness.Setting, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return []harness.Setting{
		{Path: "encryption.allow", Value: true},
		{Path: "encryption.default", Value: true},
		{Path: "encryption.appservice", Value: false},
		{Path: "encryption.msc4190", Value: false},
		{Path: "encryption.self_sign", Value: false},
		// The example says "generate", which the bridge would replace at its first start;
		// a fixed random key keeps the config file as the run wrote it.
		{Path: "encryption.pickle_key", Value: base64.RawStdEncoding.EncodeToString(key)},
	}, nil
}
