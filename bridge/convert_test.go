package bridge

import (
	"runtime"
	"strconv"
	"testing"
)

// A WeChat quote finds the message it quotes among the chat's last recentPerChat texts;
// older texts are forgotten, and a busy chat's memory stays the same size.
func TestRecentTextsKeepsTheLastWindow(t *testing.T) {
	var r recentTexts
	const n = 5 * recentPerChat
	for i := range n {
		r.add("chat", "id"+strconv.Itoa(i), []string{"Alice"}, "text "+strconv.Itoa(i))
	}
	if got := r.find("chat", "Alice", "text "+strconv.Itoa(n-1)); got != "id"+strconv.Itoa(n-1) {
		t.Fatalf("newest text: found %q", got)
	}
	oldest := n - recentPerChat
	if got := r.find("chat", "Alice", "text "+strconv.Itoa(oldest)); got != "id"+strconv.Itoa(oldest) {
		t.Fatalf("oldest text in the window: found %q", got)
	}
	if got := r.find("chat", "Alice", "text "+strconv.Itoa(oldest-1)); got != "" {
		t.Fatalf("a text older than the window was found: %q", got)
	}
	if _, ok := r.byID("chat", "id"+strconv.Itoa(oldest-1)); ok {
		t.Fatal("byID found a text older than the window")
	}
	if got := len(r.chats["chat"]); got != recentPerChat {
		t.Fatalf("%d texts kept, want %d", got, recentPerChat)
	}
	// Once a chat's window is full, remembering more texts allocates nothing (the texts
	// themselves are the caller's). Counted over many adds, since a window that regrows
	// now and then allocates less than once per add (testing.AllocsPerRun rounds that to 0).
	senders, text := []string{"Bob"}, "steady"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 * recentPerChat {
		r.add("chat", "x", senders, text)
	}
	runtime.ReadMemStats(&after)
	if n := after.Mallocs - before.Mallocs; n != 0 {
		t.Fatalf("%d allocations for %d texts added to a full chat", n, 10*recentPerChat)
	}
	if got := r.find("chat", "Bob", "steady"); got != "x" {
		t.Fatalf("the text added last: found %q", got)
	}
}
