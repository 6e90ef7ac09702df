package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/status"
	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// pushLoginWait is how long the phone's "confirm login" prompt is waited for; the
// official client switches to a QR code after 5 minutes too.
const pushLoginWait = 5 * time.Minute

// refusalMemory is how far back refused sessions are counted: the notices, the QR step
// and the bridge state speak of "the last 24 hours".
const refusalMemory = 24 * time.Hour

// limitsURL is the README section a user should read before scanning a QR code.
const limitsURL = "https://github.com/wxbridge/wxbridge#limits-of-the-web-protocol"

// sessionEnd is what the bridge knows about a session WeChat ended.
type sessionEnd struct {
	// Refused: WeChat ended the session within network.early_logout_window of its
	// login, as it has done to many accounts since January 2025. Logging in again by
	// itself is what got accounts restricted, so the bridge does not.
	Refused bool
	// Retcode is WeChat's synccheck retcode or API Ret (0 when the session was not
	// ended by WeChat, e.g. none was stored).
	Retcode int
	// AfterLogin is how long the session lasted; -1 when its login time is unknown.
	AfterLogin time.Duration
}

// classifySessionEnd tells a refused session from an expired one. Only WeChat's logout
// codes count (a missing local session is no refusal), and a login time from before the
// bridge recorded one counts as long ago.
func classifySessionEnd(loggedInAt, now time.Time, window time.Duration, err error) sessionEnd {
	end := sessionEnd{AfterLogin: -1}
	var lo *protoclient.LoggedOutError
	if errors.As(err, &lo) {
		end.Retcode = lo.Retcode
	}
	if !loggedInAt.IsZero() {
		end.AfterLogin = max(now.Sub(loggedInAt), 0)
	}
	end.Refused = end.Retcode != 0 && window > 0 && end.AfterLogin >= 0 && end.AfterLogin < window
	return end
}

// mayAutoRelogin reports whether the bridge may ask the phone for a push login by
// itself: at most once per interval (0: no limit).
func mayAutoRelogin(last, now time.Time, interval time.Duration) bool {
	return interval <= 0 || last.IsZero() || now.Sub(last) >= interval
}

// recentRefusals is the refusals of the last 24 hours before now.
func recentRefusals(refusals []time.Time, now time.Time) []time.Time {
	return slices.DeleteFunc(slices.Clone(refusals), func(t time.Time) bool { return now.Sub(t) >= refusalMemory })
}

// meta is the login's metadata, made when bridgev2 loaded none.
func (c *WeChatClient) meta() *UserLoginMetadata {
	meta, ok := c.Login.Metadata.(*UserLoginMetadata)
	if !ok {
		meta = &UserLoginMetadata{}
		c.Login.Metadata = meta
	}
	return meta
}

// loggedOut handles the end of a WeChat session (1100/1101/1102). A session refused
// right after its login is reported and left alone; an expired one is marked
// BAD_CREDENTIALS and the phone is asked to confirm a new login (push login, no QR
// scan), at most once per network.auto_relogin_interval, falling back to `login`.
func (c *WeChatClient) loggedOut(ctx context.Context, err error) {
	if !c.loggedIn.Swap(false) && c.reloginRunning.Load() {
		return
	}
	now := time.Now()
	meta := c.meta()
	end := classifySessionEnd(meta.LoggedInAt, now, c.Main.Config.EarlyLogoutWindow, err)
	log := zerolog.Ctx(ctx)
	log.Warn().Err(err).Bool("refused", end.Refused).Dur("after_login", end.AfterLogin).Msg("WeChat session ended")
	if end.Refused {
		c.sessionRefused(ctx, end, now)
		return
	}
	c.metaMu.Lock()
	meta.Ended = &EndedSession{At: now, State: StateLoggedOut, Retcode: end.Retcode}
	allowed := mayAutoRelogin(meta.LastAutoRelogin, now, c.Main.Config.AutoReloginInterval)
	if allowed && end.Retcode != 0 {
		// Without a session WeChat ended (none stored), the push login fails before it
		// reaches the phone: it does not use up the interval.
		meta.LastAutoRelogin = now
	}
	saveErr := c.Login.Save(ctx)
	c.metaMu.Unlock()
	if saveErr != nil {
		log.Err(saveErr).Msg("Saving the end of the WeChat session failed")
	}
	c.Login.BridgeState.Send(status.BridgeState{StateEvent: status.StateBadCredentials, Error: StateLoggedOut})
	if !allowed {
		log.Info().Time("last_auto_relogin", meta.LastAutoRelogin).Msg("Not asking for a push login again so soon")
		c.notice(ctx, fmt.Sprintf("Your WeChat web session has ended%s. The bridge asked your phone to confirm a new login "+
			"less than %s ago and does not ask again so soon, so that WeChat does not take it for abuse. "+
			"Send `login` to scan a new QR code; your rooms stay as they are.", retcodeSuffix(end.Retcode), humanDuration(c.Main.Config.AutoReloginInterval)))
		return
	}
	if c.reloginRunning.Swap(true) {
		return
	}
	go func() {
		defer c.reloginRunning.Store(false)
		c.pushRelogin(c.Login.Log.WithContext(c.Main.Bridge.BackgroundCtx))
	}()
}

// sessionRefused records a refused session with the login (restarts keep the count),
// marks the login BAD_CREDENTIALS and tells the user; nothing is retried.
func (c *WeChatClient) sessionRefused(ctx context.Context, end sessionEnd, now time.Time) {
	meta := c.meta()
	c.metaMu.Lock()
	meta.Refusals = append(recentRefusals(meta.Refusals, now), now)
	meta.Ended = &EndedSession{At: now, State: StateSessionRefused, Retcode: end.Retcode}
	err := c.Login.Save(ctx)
	c.metaMu.Unlock()
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Saving the refused WeChat session failed")
	}
	c.Login.BridgeState.Send(refusedState(meta.Refusals, end))
	c.notice(ctx, refusedNotice(end, len(meta.Refusals)))
}

// endedState is the bridge state of a login whose session WeChat ended before this
// process started: the same as when it ended, and WeChat is not asked again.
func (m *UserLoginMetadata) endedState(now time.Time) status.BridgeState {
	if m.Ended.State == StateSessionRefused {
		end := sessionEnd{Refused: true, Retcode: m.Ended.Retcode, AfterLogin: -1}
		if !m.LoggedInAt.IsZero() {
			end.AfterLogin = max(m.Ended.At.Sub(m.LoggedInAt), 0)
		}
		return refusedState(recentRefusals(m.Refusals, now), end)
	}
	return status.BridgeState{StateEvent: status.StateBadCredentials, Error: m.Ended.State}
}

func refusedState(refusals []time.Time, end sessionEnd) status.BridgeState {
	info := map[string]any{"refused_sessions_24h": len(refusals), "retcode": end.Retcode}
	if end.AfterLogin >= 0 {
		info["seconds_after_login"] = int(end.AfterLogin.Round(time.Second) / time.Second)
	}
	return status.BridgeState{StateEvent: status.StateBadCredentials, Error: StateSessionRefused, Info: info}
}

// refusedNotice is what the management room reads after a refused session.
func refusedNotice(end sessionEnd, count int) string {
	when := "right after login"
	if end.AfterLogin >= 0 {
		when = plural(int(end.AfterLogin.Round(time.Second)/time.Second), "second") + " after login"
	}
	return fmt.Sprintf("WeChat ended your web session %s%s. Since January 2025 WeChat does this to many accounts, "+
		"and it has restricted accounts that kept logging in after it. The bridge will not log in again by itself. "+
		"If you want to try once more, send `login`.%s More: %s",
		when, retcodeSuffix(end.Retcode), countSentence(count), limitsURL)
}

func countSentence(count int) string {
	if count <= 0 {
		return ""
	}
	return " This has happened " + plural(count, "time") + " for this account in the last 24 hours."
}

// refusalWarning is the sentence the QR step starts with once WeChat refused two or
// more sessions of the user's accounts in the last 24 hours; empty before that.
func refusalWarning(logins []*bridgev2.UserLogin, now time.Time) string {
	most := 0
	for _, l := range logins {
		if meta, ok := l.Metadata.(*UserLoginMetadata); ok {
			most = max(most, len(recentRefusals(meta.Refusals, now)))
		}
	}
	if most < 2 {
		return ""
	}
	return fmt.Sprintf("WeChat refused %d web sessions of this account in the last 24 hours; each new try risks a restriction of the account. ", most)
}

func retcodeSuffix(code int) string {
	if code == 0 {
		return ""
	}
	return " (error " + strconv.Itoa(code) + ")"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// humanDuration writes a config interval the way people say it ("6 hours").
func humanDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	default:
		return d.String()
	}
}

// notice tells the user something in the management room; a failure is logged.
func (c *WeChatClient) notice(ctx context.Context, text string) {
	if err := c.sendManagementNotice(ctx, &event.MessageEventContent{MsgType: event.MsgNotice, Body: text}); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not send a notice to the management room")
	}
}

func (c *WeChatClient) pushRelogin(ctx context.Context) {
	log := zerolog.Ctx(ctx).With().Str("action", "wechat push login").Logger()
	ctx = log.WithContext(ctx)
	uuid, err := c.wx.PushLogin(ctx)
	if err != nil {
		log.Info().Err(err).Msg("Push login not available")
		c.notice(ctx, "Your WeChat web session has ended (logged out on the phone, logged in elsewhere, or expired). "+
			"Send `login` to scan a new QR code; your rooms stay as they are.")
		return
	}
	c.notice(ctx, "Your WeChat web session has ended. WeChat on your phone now asks you to confirm a new login: "+
		"confirm it there and the bridge continues in the same rooms. Or send `login` to scan a QR code instead.")
	waitCtx, cancel := context.WithTimeout(ctx, pushLoginWait)
	defer cancel()
	tip := 1
	for {
		res, err := c.wx.PollLogin(waitCtx, uuid, tip)
		tip = 0
		if err != nil {
			if errors.Is(err, protoclient.ErrQRCancelled) {
				c.notice(ctx, "The login was declined on the phone. Send `login` to log in with a QR code.")
			} else if waitCtx.Err() != nil || errors.Is(err, protoclient.ErrQRExpired) {
				c.notice(ctx, "The login was not confirmed on the phone in time. Send `login` to log in with a QR code.")
			} else {
				log.Warn().Err(err).Msg("Push login poll failed")
				c.notice(ctx, "Logging in again failed: "+err.Error()+". Send `login` to log in with a QR code.")
			}
			return
		}
		if res.Code != protoclient.LoginConfirmed {
			continue
		}
		init, err := c.wx.CompleteLogin(ctx, res.RedirectURI)
		var lo *protoclient.LoggedOutError
		if errors.As(err, &lo) {
			// webwxinit itself answered a logout code: the new session ended at once.
			now := time.Now()
			if end := classifySessionEnd(now, now, c.Main.Config.EarlyLogoutWindow, err); end.Refused {
				c.sessionRefused(ctx, end, now)
				return
			}
		}
		if err != nil {
			c.notice(ctx, "Logging in again failed: "+loginError(err).Error()+". Send `login` to log in with a QR code.")
			return
		}
		if err := c.adoptSession(ctx, init); err != nil {
			log.Err(err).Msg("Storing the new WeChat session failed")
			c.notice(ctx, "Logging in again failed while saving the session. Send `login` to log in with a QR code.")
			return
		}
		c.notice(ctx, "Logged in to WeChat again.")
		return
	}
}

// adoptSession switches the client to a new session of the same account: new
// UserNames, so the directory starts over; same Uin, so the same login and rooms.
func (c *WeChatClient) adoptSession(ctx context.Context, init *protoclient.InitResponse) error {
	// What the old session delivered is bridged first: its messages name chats by the
	// old session's UserNames, which the directory forgets below, and the new session's
	// cursor starts after them.
	c.drainSync(ctx)
	c.Disconnect()
	if err := c.Main.DB.Identity.Clear(ctx, c.Login.ID); err != nil {
		return err
	}
	c.dir.reset()
	meta := c.meta()
	c.metaMu.Lock()
	meta.Session = c.wx.Session()
	meta.LoggedInAt = time.Now()
	meta.Ended = nil
	err := c.Login.Save(ctx)
	c.metaMu.Unlock()
	if err != nil {
		return err
	}
	c.fresh = init
	c.Connect(ctx)
	return nil
}
