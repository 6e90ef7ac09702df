package wxsim

import (
	"fmt"
	"time"
)

// Settings are the switches of the double (README.md, "Settings"). The first group
// is the control API's first version; the rest were added later. JSON names are those
// of PATCH /settings.
type Settings struct {
	EchoOwnSends       bool `json:"echo_own_sends"`
	SynccheckHoldMS    int  `json:"synccheck_hold_ms"`
	SyncBatchMax       int  `json:"sync_batch_max"`
	RevokeWindowS      int  `json:"revoke_window_s"`
	LoginForbidden     bool `json:"login_forbidden"`
	RequireCookies     bool `json:"require_cookies"`
	CheckHost          bool `json:"check_host"`
	SessionIdleExpiryS int  `json:"session_idle_expiry_s"`

	// ContactPageSize pages webwxgetcontact; 0 answers everything in one page.
	ContactPageSize int `json:"contact_page_size"`
	// LoginPollHoldMS is how long the login poll waits for a change before 408.
	LoginPollHoldMS int `json:"login_poll_hold_ms"`
	// SyncCheckKey chooses the SyncCheckKey of webwxsync answers (reference §7.2):
	// "equal" to SyncKey, "ahead" (the newest cursor even when ContinueFlag holds
	// events back) or "omit" (2016-style answers without it).
	SyncCheckKey string `json:"sync_check_key"`
	// CookieSecure adds the Secure attribute, as the real server does; turn it off for
	// clients that keep their cookie jar on plain http URLs.
	CookieSecure bool `json:"cookie_secure"`
	// QRExpiryS expires a waiting QR code after that many seconds; 0 never.
	QRExpiryS int `json:"qr_expiry_s"`
	// OfflineDelivery delivers to a new session what no earlier session fetched
	// (the real web loses it; tests usually want it).
	OfflineDelivery bool `json:"offline_delivery"`
	// ContactSelector is the synccheck selector when only contacts changed (4, 6 or 7).
	ContactSelector int `json:"contact_selector"`
	// LogoutAfterLoginMS ends every session created while it is on that many ms after
	// its first webwxinit answer, as WeChat has kicked web logins seconds after they
	// started (reference §0, January 2025: retcode 1102); 0 is off.
	LogoutAfterLoginMS int `json:"logout_after_login_ms"`
	// LogoutAfterLoginRetcode is what such an ended session answers: synccheck retcode
	// and BaseResponse.Ret alike.
	LogoutAfterLoginRetcode int `json:"logout_after_login_retcode"`
}

// DefaultSettings are the values of the contract.
func DefaultSettings() Settings {
	return Settings{
		EchoOwnSends:    true,
		SynccheckHoldMS: 25000,
		SyncBatchMax:    100,
		RevokeWindowS:   120,
		RequireCookies:  true,
		LoginPollHoldMS: 25000,
		SyncCheckKey:    "equal",
		CookieSecure:    true,
		OfflineDelivery: true,
		ContactSelector: 4,

		LogoutAfterLoginRetcode: retCookieInvalid,
	}
}

func (st Settings) validate() error {
	switch {
	case st.SynccheckHoldMS < 0, st.LoginPollHoldMS < 0:
		return fmt.Errorf("hold times must not be negative")
	case st.SyncBatchMax < 1:
		return fmt.Errorf("sync_batch_max must be at least 1")
	case st.RevokeWindowS < 0, st.SessionIdleExpiryS < 0, st.QRExpiryS < 0, st.ContactPageSize < 0, st.LogoutAfterLoginMS < 0:
		return fmt.Errorf("durations and sizes must not be negative")
	case st.LogoutAfterLoginRetcode == 0:
		// synccheck retcode 0 is a live session; the session would end unseen.
		return fmt.Errorf("logout_after_login_retcode must not be 0")
	}
	switch st.SyncCheckKey {
	case "equal", "ahead", "omit":
	default:
		return fmt.Errorf("sync_check_key must be equal, ahead or omit")
	}
	switch st.ContactSelector {
	case 4, 6, 7:
	default:
		return fmt.Errorf("contact_selector must be 4, 6 or 7")
	}
	return nil
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }
