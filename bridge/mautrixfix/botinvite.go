package mautrixfix

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/bridgev2/matrix"
	"maunium.net/go/mautrix/event"
)

// botJoinRetries are the waits before each further join. The homeserver race it works
// around closes as soon as the homeserver has stored the invite, so the first wait is
// short; the later ones cover a homeserver that is busy.
var botJoinRetries = []time.Duration{time.Second, 4 * time.Second, 15 * time.Second}

// RetryRefusedBotInvites tries the bot's join again when the homeserver refused it right
// after inviting the bot. bridgev2 (mautrix-go v0.32.0) tries once and gives up, logging
// "Failed to accept invite to room": the invitation then stays pending in the user's
// client, and the user who sent `login` to a bot that never joined gets no answer.
// Dendrite does refuse such joins now and then ("not allowed to change their membership
// from leave to join"): it pushes the invite to the appservice before the room's state
// has it (element-hq/dendrite#2902). Each further try goes through bridgev2's own
// handling of the invite, so a join that succeeds gets its welcome and management room
// as the first would have. It stops as soon as the bot is in the room or is no longer
// invited (the invitation was withdrawn).
//
// It relies on bridgev2's handler having run before it, which holds when the appservice
// handles events in order (appservice.async_transactions off, the default); otherwise it
// does nothing. It must be called after the Matrix connector's Init.
func RetryRefusedBotInvites(mc *matrix.Connector) {
	if mc == nil || mc.EventProcessor == nil || mc.Config == nil || mc.EventProcessor.ExecMode != appservice.Sync {
		return
	}
	mc.EventProcessor.On(event.StateMember, func(ctx context.Context, evt *event.Event) {
		br := mc.Bridge
		bot := br.Bot.GetMXID()
		if evt.GetStateKey() != bot.String() || evt.Content.AsMember().Membership != event.MembershipInvite ||
			!mc.Config.Bridge.Permissions.Get(evt.Sender).Commands || mc.AS.StateStore.IsInRoom(ctx, evt.RoomID, bot) {
			return
		}
		// test/e2e waits for this warning by its action and room.
		log := br.Log.With().Str("action", "retry bot join").
			Stringer("room_id", evt.RoomID).Stringer("inviter_id", evt.Sender).Stringer("event_id", evt.ID).Logger()
		log.Warn().Msg("The bot is not in a room it was invited to (bridgev2's join failed); trying again")
		go retryBotJoin(log.WithContext(br.BackgroundCtx), mc, evt)
	})
}

func retryBotJoin(ctx context.Context, mc *matrix.Connector, evt *event.Event) {
	log := zerolog.Ctx(ctx)
	bot := mc.Bridge.Bot.GetMXID()
	for i, wait := range botJoinRetries {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		member, err := mc.AS.StateStore.GetMember(ctx, evt.RoomID, bot)
		if err != nil {
			log.Err(err).Msg("Reading the bot's membership failed; not trying to join again")
			return
		}
		switch member.Membership {
		case event.MembershipJoin:
			return
		case event.MembershipInvite:
		default:
			log.Info().Str("membership", string(member.Membership)).Msg("The bot is no longer invited; not trying to join again")
			return
		}
		mc.Bridge.QueueMatrixEvent(ctx, evt)
		if mc.AS.StateStore.IsInRoom(ctx, evt.RoomID, bot) {
			log.Info().Int("attempt", i+2).Msg("The bot joined the room it was invited to")
			return
		}
	}
	log.Error().Int("attempts", len(botJoinRetries)+1).
		Msg("The homeserver kept refusing the bot's join; the user has to invite the bot again")
}
