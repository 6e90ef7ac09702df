package mautrixfix

import (
	"context"

	"maunium.net/go/mautrix/bridgev2"
)

// eventStackPad sizes the stack frame GrowEventStack asks for: with what is already on the
// stack it makes the runtime give the goroutine the 16 KiB that handling a message reaches
// (measured: the bridge runs with debug.SetMaxStack(16 KiB) but not 8 KiB, the deepest
// frames being SQLite's).
const eventStackPad = 12 << 10

// GrowEventStack is a PreHandleFunc for remote events. bridgev2 handles each event on a goroutine
// of its own, which starts with a small stack and grows it by doubling, each time copying
// it and adjusting every frame on it; the last growths happen deep inside SQLite (modernc's
// translated C), where that walk is long: 5–7 % of the bridge's CPU per message (test/bench
// profiles). Growing once here, at the top of the goroutine, copies a handful of frames.
func GrowEventStack(context.Context, *bridgev2.Portal) {
	var pad [eventStackPad]byte
	touchStack(pad[:])
}

// touchStack keeps pad (and so the frame) from being optimised away; it does not keep the
// slice, so pad stays on the stack.
//
//go:noinline
func touchStack(pad []byte) { pad[len(pad)-1] = 1 }
