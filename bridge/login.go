package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/database"
	"maunium.net/go/mautrix/bridgev2/status"

	"wxbridge/bridge/mautrixfix"
	"wxbridge/portal"
	"wxbridge/protoclient"
)

const (
	LoginFlowIDQR        = "qr"
	LoginStepIDQR        = "fi.wxbridge.login.qr"
	LoginStepIDScanned   = "fi.wxbridge.login.scanned"
	LoginStepIDComplete  = "fi.wxbridge.login.complete"
	maxQRRefreshes       = 6
	errCodeLoginRefused  = "WECHAT.LOGIN_REFUSED"
	errCodeLoginTimeout  = "WECHAT.LOGIN_TIMEOUT"
	errCodeLoginFailed   = "WECHAT.LOGIN_FAILED"
	errCodeLoginCanceled = "WECHAT.LOGIN_CANCELLED"
)

var (
	ErrLoginTimeout = bridgev2.RespError{ErrCode: errCodeLoginTimeout, StatusCode: http.StatusRequestTimeout,
		Err: "The QR code was not scanned in time. Send `login` to get a new one."}
	ErrLoginCancelled = bridgev2.RespError{ErrCode: errCodeLoginCanceled, StatusCode: http.StatusBadRequest,
		Err: "The login was cancelled on the phone. Send `login` to try again."}
)

func (wc *WeChatConnector) GetLoginFlows() []bridgev2.LoginFlow {
	return []bridgev2.LoginFlow{{
		Name:        "QR code",
		Description: "Scan a QR code with the WeChat app on your phone",
		ID:          LoginFlowIDQR,
	}}
}

func (wc *WeChatConnector) CreateLogin(ctx context.Context, user *bridgev2.User, flowID string) (bridgev2.LoginProcess, error) {
	if flowID != LoginFlowIDQR {
		return nil, fmt.Errorf("unknown login flow %q", flowID)
	}
	wx, err := wc.newProtoClient()
	if err != nil {
		return nil, err
	}
	return &QRLogin{Main: wc, User: user, wx: wx}, nil
}

// QRLogin is the display-and-wait QR flow: jslogin gives a uuid shown as a QR code; Wait
// long-polls until the phone scans (a "confirm on your phone" step), confirms (the login
// completes) or the code expires (a new code replaces the old one in place).
type QRLogin struct {
	Main *WeChatConnector
	User *bridgev2.User

	wx        *protoclient.Client
	uuid      string
	tip       int
	refreshes int
	scanned   bool
}

var _ bridgev2.LoginProcessDisplayAndWait = (*QRLogin)(nil)

func (ql *QRLogin) log(ctx context.Context) *zerolog.Logger {
	l := zerolog.Ctx(ctx).With().Str("action", "wechat qr login").Logger()
	return &l
}

func (ql *QRLogin) Start(ctx context.Context) (*bridgev2.LoginStep, error) {
	return ql.newQR(ctx)
}

func (ql *QRLogin) newQR(ctx context.Context) (*bridgev2.LoginStep, error) {
	uuid, err := ql.wx.NewQRLogin(ctx)
	if err != nil {
		return nil, bridgev2.RespError{ErrCode: errCodeLoginFailed, StatusCode: http.StatusBadGateway,
			Err: "Could not get a QR code from WeChat: " + err.Error()}
	}
	ql.uuid, ql.tip, ql.scanned = uuid, 1, false
	instructions := "Scan this QR code with WeChat on your phone (Me → the scan icon, or + → Scan), " +
		"then confirm the login on the phone."
	if ql.refreshes == 0 {
		// Once per login, before the code: what WeChat may do to the account.
		instructions = refusalWarning(ql.userLogins(), time.Now()) + instructions +
			" Since 2025 WeChat ends many web sessions right after login and has restricted accounts that kept trying: " + limitsURL
	}
	return &bridgev2.LoginStep{
		Type:         bridgev2.LoginStepTypeDisplayAndWait,
		StepID:       LoginStepIDQR,
		Instructions: instructions,
		DisplayAndWaitParams: &bridgev2.LoginDisplayAndWaitParams{
			Type: bridgev2.LoginDisplayTypeQR,
			Data: protoclient.QRData(uuid),
		},
	}, nil
}

func (ql *QRLogin) Wait(ctx context.Context) (*bridgev2.LoginStep, error) {
	for {
		res, err := ql.wx.PollLogin(ctx, ql.uuid, ql.tip)
		ql.tip = 0
		switch {
		case errors.Is(err, protoclient.ErrQRExpired):
			ql.refreshes++
			if ql.refreshes >= maxQRRefreshes {
				return nil, ErrLoginTimeout
			}
			ql.log(ctx).Debug().Int("refreshes", ql.refreshes).Msg("QR code expired, showing a new one")
			return ql.newQR(ctx)
		case errors.Is(err, protoclient.ErrQRCancelled):
			return nil, ErrLoginCancelled
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, bridgev2.RespError{ErrCode: errCodeLoginFailed, StatusCode: http.StatusBadGateway,
				Err: "Waiting for the QR code scan failed: " + err.Error()}
		}
		switch res.Code {
		case protoclient.LoginScanned:
			if !ql.scanned {
				ql.scanned = true
				return &bridgev2.LoginStep{
					Type:         bridgev2.LoginStepTypeDisplayAndWait,
					StepID:       LoginStepIDScanned,
					Instructions: "QR code scanned. Confirm the login on your phone.",
					DisplayAndWaitParams: &bridgev2.LoginDisplayAndWaitParams{
						Type: bridgev2.LoginDisplayTypeNothing,
					},
				}, nil
			}
		case protoclient.LoginConfirmed:
			return ql.finish(ctx, res.RedirectURI)
		}
	}
}

func (ql *QRLogin) finish(ctx context.Context, redirectURI string) (*bridgev2.LoginStep, error) {
	init, err := ql.wx.CompleteLogin(ctx, redirectURI)
	var lo *protoclient.LoggedOutError
	if errors.As(err, &lo) {
		return nil, ql.refusedAtInit(ctx, err)
	}
	if err != nil {
		return nil, loginError(err)
	}
	return completeLogin(ctx, ql.Main, ql.User, ql.wx, init)
}

// refusedAtInit answers a login whose webwxinit already said the session has ended:
// counted with the account's login when the user has one, and explained.
func (ql *QRLogin) refusedAtInit(ctx context.Context, err error) error {
	now := time.Now()
	end := classifySessionEnd(now, now, ql.Main.Config.EarlyLogoutWindow, err)
	if !end.Refused {
		return loginError(err)
	}
	count := 0
	loginID := portal.MakeUserLoginID(ql.wx.Uin())
	for _, ul := range ql.userLogins() {
		// Not a login whose own session still runs: that one WeChat has not ended.
		if c, ok := ul.Client.(*WeChatClient); ok && ul.ID == loginID && !c.IsLoggedIn() {
			c.sessionRefused(ctx, end, now)
			count = len(c.meta().Refusals)
		}
	}
	ql.log(ctx).Warn().Err(err).Msg("WeChat ended the new session at once")
	return bridgev2.RespError{ErrCode: errCodeLoginRefused, StatusCode: http.StatusForbidden, Err: refusedNotice(end, count)}
}

func (ql *QRLogin) userLogins() []*bridgev2.UserLogin {
	if ql.User == nil {
		return nil
	}
	return ql.User.GetUserLogins()
}

// loginError turns protocol errors into what the user reads.
func loginError(err error) error {
	var refused *protoclient.LoginRefusedError
	if errors.As(err, &refused) {
		msg := "WeChat refused the web login for this account"
		if refused.WebLoginForbidden() {
			msg = "WeChat does not allow this account to log in on the web (error 1203). " +
				"This is WeChat's decision for the account, often for new accounts or ones without real-name verification; " +
				"the bridge cannot work around it"
		}
		if refused.Message != "" {
			msg += ". WeChat said: " + refused.Message
		}
		return bridgev2.RespError{ErrCode: errCodeLoginRefused, StatusCode: http.StatusForbidden, Err: msg}
	}
	return bridgev2.RespError{ErrCode: errCodeLoginFailed, StatusCode: http.StatusBadGateway,
		Err: "Logging in to WeChat failed: " + err.Error()}
}

// completeLogin stores a fresh session as a UserLogin and connects it. A re-login of the
// same account (same Uin) reuses the login and its rooms.
func completeLogin(ctx context.Context, wc *WeChatConnector, user *bridgev2.User, wx *protoclient.Client, init *protoclient.InitResponse) (*bridgev2.LoginStep, error) {
	loginID := portal.MakeUserLoginID(wx.Uin())
	// A new session means new UserNames: the old map must not resolve anyone.
	if err := wc.DB.Identity.Clear(ctx, loginID); err != nil {
		return nil, fmt.Errorf("clear identity map: %w", err)
	}
	name := init.User.NickName
	ul, err := user.NewLogin(ctx, &database.UserLogin{
		ID:         loginID,
		RemoteName: name,
		RemoteProfile: status.RemoteProfile{
			Name: name,
		},
		Metadata: &UserLoginMetadata{Session: wx.Session(), LoggedInAt: time.Now()},
	}, &bridgev2.NewLoginParams{
		DeleteOnConflict: true,
		LoadUserLogin: func(ctx context.Context, login *bridgev2.UserLogin) error {
			mautrixfix.EnsureInPortalCache(login)
			c := newClient(wc, login, wx)
			c.fresh = init
			login.Client = c
			return nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("save login: %w", err)
	}
	ul.Client.Connect(ul.Log.WithContext(wc.Bridge.BackgroundCtx))
	return &bridgev2.LoginStep{
		Type:           bridgev2.LoginStepTypeComplete,
		StepID:         LoginStepIDComplete,
		Instructions:   fmt.Sprintf("Successfully logged in as %s", name),
		CompleteParams: &bridgev2.LoginCompleteParams{UserLoginID: ul.ID, UserLogin: ul},
	}, nil
}

func (ql *QRLogin) Cancel() {}
