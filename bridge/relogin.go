package bridge

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/bridgev2/status"
	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// pushLoginWait is how long the phone's "confirm login" prompt is waited for; the
// official client switches to a QR code after 5 minutes too.
const pushLoginWait = 5 * time.Minute

// loggedOut handles the end of a WeChat session (1100/1101/1102): the login is marked
// BAD_CREDENTIALS, and the user is asked to confirm a new login on the phone (push
// login, no QR scan) — falling back to `login` when WeChat does not offer it.
func (c *WeChatClient) loggedOut(ctx context.Context, err error) {
	if !c.loggedIn.Swap(false) && c.reloginRunning.Load() {
		return
	}
	zerolog.Ctx(ctx).Warn().Err(err).Msg("WeChat session ended")
	c.Login.BridgeState.Send(status.BridgeState{StateEvent: status.StateBadCredentials, Error: StateLoggedOut})
	if c.reloginRunning.Swap(true) {
		return
	}
	go func() {
		defer c.reloginRunning.Store(false)
		c.pushRelogin(c.Login.Log.WithContext(c.Main.Bridge.BackgroundCtx))
	}()
}

func (c *WeChatClient) pushRelogin(ctx context.Context) {
	log := zerolog.Ctx(ctx).With().Str("action", "wechat push login").Logger()
	ctx = log.WithContext(ctx)
	notice := func(text string) {
		if err := c.sendManagementNotice(ctx, &event.MessageEventContent{MsgType: event.MsgNotice, Body: text}); err != nil {
			log.Warn().Err(err).Msg("Could not tell the user about the ended session")
		}
	}
	uuid, err := c.wx.PushLogin(ctx)
	if err != nil {
		log.Info().Err(err).Msg("Push login not available")
		notice("Your WeChat web session has ended (logged out on the phone, logged in elsewhere, or expired). " +
			"Send `login` to scan a new QR code; your rooms stay as they are.")
		return
	}
	notice("Your WeChat web session has ended. WeChat on your phone now asks you to confirm a new login: " +
		"confirm it there and the bridge continues in the same rooms. Or send `login` to scan a QR code instead.")
	waitCtx, cancel := context.WithTimeout(ctx, pushLoginWait)
	defer cancel()
	tip := 1
	for {
		res, err := c.wx.PollLogin(waitCtx, uuid, tip)
		tip = 0
		if err != nil {
			if errors.Is(err, protoclient.ErrQRCancelled) {
				notice("The login was declined on the phone. Send `login` to log in with a QR code.")
			} else if waitCtx.Err() != nil || errors.Is(err, protoclient.ErrQRExpired) {
				notice("The login was not confirmed on the phone in time. Send `login` to log in with a QR code.")
			} else {
				log.Warn().Err(err).Msg("Push login poll failed")
				notice("Logging in again failed: " + err.Error() + ". Send `login` to log in with a QR code.")
			}
			return
		}
		if res.Code != protoclient.LoginConfirmed {
			continue
		}
		init, err := c.wx.CompleteLogin(ctx, res.RedirectURI)
		if err != nil {
			notice("Logging in again failed: " + loginError(err).Error() + ". Send `login` to log in with a QR code.")
			return
		}
		if err := c.adoptSession(ctx, init); err != nil {
			log.Err(err).Msg("Storing the new WeChat session failed")
			notice("Logging in again failed while saving the session. Send `login` to log in with a QR code.")
			return
		}
		notice("Logged in to WeChat again.")
		return
	}
}

// adoptSession switches the client to a new session of the same account: new
// UserNames, so the directory starts over; same Uin, so the same login and rooms.
func (c *WeChatClient) adoptSession(ctx context.Context, init *protoclient.InitResponse) error {
	c.Disconnect()
	if err := c.Main.identities.clear(ctx, c.Login.ID); err != nil {
		return err
	}
	c.dir.reset()
	meta, ok := c.Login.Metadata.(*UserLoginMetadata)
	if !ok {
		meta = &UserLoginMetadata{}
		c.Login.Metadata = meta
	}
	meta.Session = c.wx.Session()
	if err := c.Login.Save(ctx); err != nil {
		return err
	}
	c.fresh = init
	c.Connect(ctx)
	return nil
}
