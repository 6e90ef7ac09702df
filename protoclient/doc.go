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
package protoclient
