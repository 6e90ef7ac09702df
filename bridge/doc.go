// Package bridge is the mautrix bridgev2 network connector for WeChat: login, the sync
// loop turning WeChat batches into bridgev2 remote events, Matrix events sent to WeChat,
// chat and user info. It is thin glue: the protocol lives in protoclient, message
// conversion in portal.
//
// It may import protoclient, portal and mautrix; protoclient and portal must never import
// it.
package bridge
