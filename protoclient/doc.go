// Package protoclient is a client for WeChat's web protocol ("webwx"): QR and push
// login, the session (cookies with their domains, BaseRequest, pass_ticket), contacts,
// the synccheck/webwxsync loop, sending, media upload and download. Each message of a
// sync batch is decoded here into an Event: where it belongs (MessageInfo) and a typed
// Content (Text, Image, Revoke, FriendRequest, …; Undecodable with the raw text when it
// does not read), so that no caller parses wire text.
//
// It must not import anything from Matrix or mautrix: like whatsmeow under
// mautrix-whatsapp, it is a protocol library that a bridge uses, and it is tested
// against the server double in protoclient/wxsim.
//
// Comments here and across the repository cite sections of the web protocol reference
// the project was written from, as "§4.6" or "reference §7.2". That reference — research
// notes on webwx compiled from public open-source clients, the official web app's
// JavaScript, captured traffic published in public repositories and issue threads — is
// not part of the repository; a section number only records where a fact came from.
// Tencent publishes no documentation of the protocol.
package protoclient
