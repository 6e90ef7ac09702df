package protoclient

import (
	"errors"
	"fmt"
)

// LoggedOutError means the server ended the session: synccheck retcode or API Ret
// 1100, 1101 or 1102 (§2.4, §8.1). The session cannot be resumed; log in again (push
// login first, then QR).
type LoggedOutError struct {
	Retcode  int
	Endpoint string
}

func (e *LoggedOutError) Error() string {
	return fmt.Sprintf("wechat session ended (%s answered %d: %s)", e.Endpoint, e.Retcode, retcodeMeaning(e.Retcode))
}

// IsLoggedOutCode reports whether a retcode/Ret ends the session.
func IsLoggedOutCode(code int) bool { return code == 1100 || code == 1101 || code == 1102 }

func retcodeMeaning(code int) string {
	switch code {
	case 1100:
		return "logged out on the phone or session does not exist"
	case 1101:
		return "session invalid: kicked, logged in elsewhere or expired"
	case 1102:
		return "session cookies invalid or account restricted"
	case 1205:
		return "operating too often, rate limited"
	case -1:
		return "system error"
	case 1:
		return "parameter error"
	case 1201:
		return "not a member of that group"
	default:
		return "unknown error"
	}
}

// APIError is a JSON API answer whose BaseResponse.Ret is not 0 and not a logout code.
type APIError struct {
	Endpoint string
	Ret      int
	ErrMsg   string
}

func (e *APIError) Error() string {
	if e.ErrMsg != "" {
		return fmt.Sprintf("%s failed: Ret %d (%s): %s", e.Endpoint, e.Ret, retcodeMeaning(e.Ret), e.ErrMsg)
	}
	return fmt.Sprintf("%s failed: Ret %d (%s)", e.Endpoint, e.Ret, retcodeMeaning(e.Ret))
}

// RateLimited reports whether the server refused because of frequency (Ret 1205).
func (e *APIError) RateLimited() bool { return e.Ret == 1205 }

// NotGroupMember reports whether the account is not (or no longer) in the group the
// call was about (Ret 1201).
func (e *APIError) NotGroupMember() bool { return e.Ret == 1201 }

// Refused reports a "parameter error" (Ret 1): WeChat's answer to calls it will not do
// for this account, e.g. a member removed by someone who is not the group owner.
func (e *APIError) Refused() bool { return e.Ret == 1 }

// SystemError reports Ret -1, which webwxrevokemsg answers after the recall window.
func (e *APIError) SystemError() bool { return e.Ret == -1 }

// LoginRefusedError is a webwxnewloginpage answer with ret != 0; ret 1203 means WeChat
// does not allow this account to log in on the web at all (§3.5).
type LoginRefusedError struct {
	Ret     int
	Message string
}

// WebLoginForbidden reports ret 1203: WeChat does not let this account use the web.
func (e *LoginRefusedError) WebLoginForbidden() bool { return e.Ret == 1203 }

func (e *LoginRefusedError) Error() string {
	return fmt.Sprintf("wechat refused the web login (ret %d): %s", e.Ret, e.Message)
}

// HTTPError is an answer with an unexpected HTTP status.
type HTTPError struct {
	Endpoint   string
	StatusCode int
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s answered HTTP %d", e.Endpoint, e.StatusCode)
}

// TooLargeError is a download or upload over the caller's size cap.
type TooLargeError struct {
	Limit int64
	Size  int64 // -1 when the size was found while reading
}

func (e *TooLargeError) Error() string {
	if e.Size >= 0 {
		return fmt.Sprintf("media is %d bytes, over the limit of %d", e.Size, e.Limit)
	}
	return fmt.Sprintf("media is over the limit of %d bytes", e.Limit)
}

var (
	// ErrQRExpired: the login poll answered 400, the uuid is dead; ask for a new one.
	ErrQRExpired = errors.New("the QR code expired")
	// ErrQRCancelled: the user pressed cancel on the phone (202).
	ErrQRCancelled = errors.New("the login was cancelled on the phone")
	// ErrNotLoggedIn: a call that needs a session was made without one.
	ErrNotLoggedIn = errors.New("not logged in")
	// ErrPushLoginUnavailable: webwxpushloginurl did not give a uuid.
	ErrPushLoginUnavailable = errors.New("push login is not available for this session")
	// ErrMalformed: a server answer could not be parsed.
	ErrMalformed = errors.New("malformed answer from the server")
)
