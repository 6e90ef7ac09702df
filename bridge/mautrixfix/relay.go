package mautrixfix

import (
	"context"
	"errors"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/commands"
	"maunium.net/go/mautrix/bridgev2/matrix"
	"maunium.net/go/mautrix/event"
)

// UnsetRelayInSplitPortals replaces bridgev2's unset-relay command in portals that belong
// to one login (split portals). There mautrix-go v0.32.0's command panics: it passes
// Portal.SetRelay a nil login, and SetRelay reads that login's ID (to check it is the
// portal's receiver) before anything else. The user gets the panic as the command's
// failure, and the relay stays on. In other portals, and with no relay set, bridgev2's
// own command runs.
//
// A split portal's relay can only be its receiver's login, so the login's owner or a
// bridge admin may stop it; bridgev2 also lets whoever has the room's power for
// fi.mau.bridge.set_relay, which is meant for portals that several logins share.
func UnsetRelayInSplitPortals(proc *commands.Processor) {
	proc.AddHandler(unsetRelay())
}

func unsetRelay() *commands.FullHandler {
	upstream := commands.CommandUnsetRelay
	return &commands.FullHandler{
		Name:           upstream.Name,
		Aliases:        upstream.Aliases,
		Help:           upstream.Help,
		RequiresPortal: true,
		Func: func(ce *commands.Event) {
			p := ce.Portal
			if p.Receiver == "" || p.Relay == nil {
				upstream.Func(ce)
				return
			}
			if owner := p.Relay.UserMXID; !ce.User.Permissions.ManageRelay || (owner != ce.User.MXID && !ce.User.Permissions.Admin) {
				ce.Reply("Only %s, whose login relays here, or a bridge admin can stop the relay", owner)
				return
			}
			relay := p.Relay
			p.Relay, p.RelayLoginID = nil, ""
			if err := p.Save(ce.Ctx); err != nil {
				p.Relay, p.RelayLoginID = relay, relay.ID
				ce.Log.Err(err).Msg("Saving the portal without its relay failed")
				ce.Reply("The relay could not be turned off (database error); it is still on")
				return
			}
			ce.Reply("Stopped relaying: messages of users who haven't logged in no longer go through %s", relay.RemoteName)
		},
	}
}

// ExplainRelayedReactions answers a reaction of a user the portal relays for with a notice
// that gives reason. mautrix-go v0.32.0 drops such reactions before the connector sees
// them (relays carry messages only) with ErrIgnoringReactionFromRelayedUser: a status
// without a human message and no notice, so in Element the reaction just sits there, and
// the user cannot tell that nobody on the other side sees it. The notice is the one
// bridgev2 sends for its other refusals ("⚠️ Your reaction was not bridged: …"), and only
// when matrix.message_error_notices is on, as those are.
//
// It listens beside bridgev2's handler for reactions (decrypted ones in encrypted rooms
// are dispatched there too), so it must be called after the Matrix connector's Init.
func ExplainRelayedReactions(mc *matrix.Connector, reason string) {
	if mc == nil || mc.EventProcessor == nil || mc.Config == nil || !mc.Config.Matrix.MessageErrorNotices {
		return
	}
	mc.EventProcessor.On(event.EventReaction, func(ctx context.Context, evt *event.Event) {
		br := mc.Bridge
		if evt.Sender == br.Bot.GetMXID() || br.IsGhostMXID(evt.Sender) {
			return
		}
		log := br.Log.With().Str("action", "explain relayed reaction").Stringer("event_id", evt.ID).Logger()
		portal, err := br.GetPortalByMXID(ctx, evt.RoomID)
		if err != nil || portal == nil || portal.Relay == nil {
			return
		}
		user, err := br.GetUserByMXID(ctx, evt.Sender)
		if err != nil || user == nil || !user.Permissions.SendEvents {
			return
		}
		// No login of the user's own and no error: bridgev2 relays for them.
		if login, _, err := portal.FindPreferredLogin(ctx, user, true); err != nil || login != nil {
			return
		}
		status := bridgev2.WrapErrorInStatus(errors.New(reason)).WithIsCertain(true).WithErrorAsMessage()
		notice := status.ToNoticeEvent(bridgev2.StatusEventInfoFromEvent(evt))
		if _, err := br.Bot.SendMessage(ctx, evt.RoomID, event.EventMessage, &event.Content{Parsed: notice}, nil); err != nil {
			log.Err(err).Msg("Telling a relayed user why their reaction was not bridged failed")
		}
	})
}
