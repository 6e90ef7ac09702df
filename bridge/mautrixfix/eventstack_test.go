package mautrixfix

import (
	"context"
	"testing"
)

// The pad must stay on the stack: on the heap it would cost an allocation per message and
// grow nothing.
func TestGrowEventStackStaysOnStack(t *testing.T) {
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { GrowEventStack(ctx, nil) }); n != 0 {
		t.Fatalf("GrowEventStack allocates %.0f times per call", n)
	}
}
