package protoclient

// UserName is a session-scoped name: "@…" for a person, "@@…" for a group, or a special
// account's fixed name ("filehelper", "weixin"). WeChat gives every contact a new one at
// each login; it addresses a chat within one session and is never stored beyond it.
type UserName string

// WxID is a permanent identity: a person's wxid ("wxid_…", or an older self-chosen id), a
// group's "<digits>@chatroom", an official account's "gh_…", a special account's fixed
// name ("filehelper"), or the bridge's derived stand-in for one where WeChat shows none.
// A session UserName ("@…", "@@…") is never one: WeChat gives every contact a new
// UserName at each login, so what outlives a session is keyed on a WxID. Only the code
// that proves the pairing of the two (the bridge's identity map) converts a string into
// a WxID.
type WxID string
