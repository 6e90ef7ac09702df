// Package wxsim is a server double of WeChat's web protocol ("webwx") for tests,
// benchmarks and demos. One http.Handler serves both of its faces on one listener:
//
//   - the protocol face: the real paths (/jslogin, /cgi-bin/mmwebwx-bin/…), with the real
//     response texts byte for byte, the real cookies and the real quirks (session-scoped
//     UserNames, a SyncKey that is a replayable cursor, one message per ClientMsgId, a
//     revoke window), so that a client written from the public descriptions of the
//     protocol works against it unchanged except for the base URL;
//   - the control face under /_wxsim/v1/ (README.md in this directory): the rest of
//     the world — the phone that scans the QR code, contacts who write, groups that
//     change, a network that fails — plus Control, a typed Go client of that API.
//
// What was added to the control API after its first version (README.md documents all
// of it; the API may be extended, never broken):
//
//   - settings contact_page_size (0), login_poll_hold_ms (25000), sync_check_key
//     ("equal" | "ahead" | "omit"), cookie_secure (true), qr_expiry_s (0 = never),
//     offline_delivery (true: a new session gets what no earlier session fetched),
//     contact_selector (4); GET /settings;
//   - settings logout_after_login_ms (0 = off) and logout_after_login_retcode (1102;
//     never 0): every session created while logout_after_login_ms is above 0, by QR
//     or push login, ends that many ms after its first webwxinit answer, as WeChat
//     kicked new web logins in 2025. From the deadline on, synccheck answers
//     retcode:"<retcode>",selector:"0" and every JSON API (webwxinit, webwxsync,
//     webwxsendmsg, webwxstatusnotify, …) BaseResponse.Ret <retcode> (unlike POST
//     /accounts/{wxid}/logout, whose APIs answer 1101 by the contract); downloads
//     answer 403; a synccheck held at the deadline answers at once; the account is
//     no longer logged in. The values are taken when the session is created
//     (newloginpage), so a change affects only later sessions; every later login is a
//     new session with its own deadline. Deadlines follow Options.Now and fire
//     through Options.AfterFunc;
//   - GET /accounts, PATCH /accounts/{wxid} (own profile: Profile BitFlag 190),
//     GET /accounts/{wxid}/contacts, GET /accounts/{wxid}/groups (with the members'
//     nicknames), GET /accounts/{wxid}/groups/{gid}, GET /faults, DELETE /stats;
//   - the phone page at /_wxsim/phone/ (phone.go, phone/): a browser page that plays
//     the phone through the control API, for demos and the browser test;
//   - fields: account host and avatar_base64; contact province, city, alias; group
//     owner (default: the account), avatar_base64, and "by" (who renamed or changed
//     members; default the owner, else another member) on group changes; logins list
//     wxid and push; incoming/from-phone width, height, voice_length_ms,
//     play_length_s, url, thumb_base64; sent app_msg_type and endpoint; friend
//     requests nickname, ticket, msg_id and the state "rejected"; confirm with
//     {"wxid"} scans a waiting login first; sync-raw accepts a Profile object;
//   - fault kinds bad_status (the answer is the invalid status line "HTTP/1.1 0 -") and
//     empty_synckey (webwxsync answers with a SyncKey of Count 0) and lost_answer (the
//     request is processed, then the connection drops without the answer).
//
// Choices where the contract is silent: a new login kills the account's previous
// session (1101, as a web login elsewhere does); requests without the session cookies
// answer 1102 when require_cookies is on; of several webwx_data_ticket cookies (a
// client that logged in twice may send the stale one first) any one that is the
// session's passes, for downloads and uploads alike; downloads that fail
// authentication answer HTTP 403; /sent "type" is the MsgType on the wire (49 for
// files); a revoke notice's <oldmsgid> is a legacy 32-bit id, ten digits and at most
// 4294967295; newloginpage without version=v2 answers the XML with a 301 and no
// Location, as the real server did; an upload part over one 512 KiB chunk is refused,
// as on the real server. Go's http.Transport retries an idempotent request once when
// a reused connection is reset, so a reset fault meant to reach a Go client needs a
// count of 2 or 0.
//
// All state lives in memory behind one mutex. Long polls wait on channels that are
// closed when state changes, never on sleeps.
//
// wxsim must not import anything of Matrix, mautrix or the bridge: it plays WeChat and
// nothing else, and may use at most the wire types and the content encoder of package
// protoclient, so that client and double agree on the JSON and on how typed text looks
// on the wire, while the protocol logic stays two independent implementations.
package wxsim
