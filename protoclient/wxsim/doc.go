// Package wxsim is a server double of WeChat's web protocol ("webwx") for tests,
// benchmarks and demos. One http.Handler serves both of its faces on one listener:
//
//   - the protocol face: the real paths (/jslogin, /cgi-bin/mmwebwx-bin/…), with the real
//     response texts byte for byte, the real cookies and the real quirks (session-scoped
//     UserNames, a SyncKey that is a replayable cursor, one message per ClientMsgId, a
//     revoke window), so that a client written from the public descriptions of the
//     protocol works against it unchanged except for the base URL;
//   - the control face under /_wxsim/v1/ (wxsim-control.md): the rest of the world — the
//     phone that scans the QR code, contacts who write, groups that change, a network
//     that fails — plus Control, a typed Go client of that API.
//
// All state lives in memory behind one mutex. Long polls wait on channels that are
// closed when state changes, never on sleeps.
//
// wxsim must not import anything of Matrix, mautrix or the bridge: it plays WeChat and
// nothing else, and may use at most the wire types of package protoclient, so that the
// client and the double agree on the JSON while staying independent implementations.
package wxsim
