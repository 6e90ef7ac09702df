package main

import (
	"crypto/rand"
	"encoding/base64"

	"wxbridge/test/harness"
)

// encryptionSettings are the config edits of `bridge-config -encryption` (E2E_ENCRYPTION=1
// test/e2e/run, a CGO_ENABLED=1 -tags goolm bridge): end-to-bridge encryption on, and every
// portal created encrypted. hs is the homeserver the run uses.
//
// On Synapse the bridge runs as the README tells a Synapse user to: appservice mode (to-device
// events, device lists and key counts in the transactions, MSC2409/MSC3202), MSC4190 (the bot's
// device made under the as_token, no login) and self_sign (the bot cross-signs its device, so
// clients show no "not verified by its owner" shield); synapse.sh turns on the experimental
// features these need, and `-g` writes io.element.msc4190 and org.matrix.msc3202 into the
// registration.
//
// On Dendrite v0.13.8 none of these work:
//
//   - appservice: false. Dendrite pushes no to-device events, device list changes or key
//     counts to appservices. With false the bridge bot gets its own device with
//     `m.login.application_service` and long-polls /sync with it for to-device events.
//   - msc4190: false. Dendrite does not implement PUT /devices/{id} under the as_token.
//   - self_sign: false. Dendrite demands an m.login.password stage for the cross-signing key
//     upload (clientapi/routing/key_crosssigning.go); the bot has no password. Clients then
//     see the bot's device as unverified, which the default verification_levels accept.
//
// require stays false: the management room is an unencrypted DM the user creates.
func encryptionSettings(hs string) ([]harness.Setting, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	synapse := hs == "synapse"
	return []harness.Setting{
		{Path: "encryption.allow", Value: true},
		{Path: "encryption.default", Value: true},
		{Path: "encryption.appservice", Value: synapse},
		{Path: "encryption.msc4190", Value: synapse},
		{Path: "encryption.self_sign", Value: synapse},
		// The example says "generate", which the bridge would replace at its first start;
		// a fixed random key keeps the config file as the run wrote it.
		{Path: "encryption.pickle_key", Value: base64.RawStdEncoding.EncodeToString(key)},
	}, nil
}
