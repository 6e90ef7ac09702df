package mautrixfix

import (
	"context"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/id"
)

var _ bridgev2.CommandProcessor = ownCommandLogger{}

// OwnCommandLogger gives each management command a logger of its own. mautrix-go v0.32.0's
// command processor adds the command's name (mx_command, or action for a reply to a
// login step) to the logger of the context it is handed. That context is the one the
// appservice handles every Matrix event with, so each command's name stayed on every
// later log line of Matrix events, one more per command: the bot's next join said
// "mx_command":"login","mx_command":"accept-friend",…, and the shared logger grew for as
// long as the bridge ran.
//
// The processor is replaced, so this must run after everything that adds commands to
// bridgev2's own (mxmain's PostInit).
func OwnCommandLogger(br *bridgev2.Bridge) {
	if br == nil || br.Commands == nil {
		return
	}
	if _, done := br.Commands.(ownCommandLogger); done {
		return
	}
	br.Commands = ownCommandLogger{br.Commands}
}

type ownCommandLogger struct{ bridgev2.CommandProcessor }

func (p ownCommandLogger) Handle(ctx context.Context, roomID id.RoomID, eventID id.EventID, user *bridgev2.User, message string, replyTo id.EventID) {
	log := zerolog.Ctx(ctx).With().Logger()
	p.CommandProcessor.Handle(log.WithContext(ctx), roomID, eventID, user, message, replyTo)
}
