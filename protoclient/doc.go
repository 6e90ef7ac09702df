// Package protoclient is a client for WeChat's web protocol ("webwx"): QR and push
// login, the session (cookies with their domains, BaseRequest, pass_ticket), contacts,
// the synccheck/webwxsync loop, sending, media upload and download, and the helpers
// that decode message content.
//
// It must not import anything from Matrix or mautrix: like whatsmeow under
// mautrix-whatsapp, it is a protocol library that a bridge uses, and it is tested
// against the server double in protoclient/wxsim.
package protoclient
