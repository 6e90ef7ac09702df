//go:build bench

package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// httpClient is shared by every Matrix client: enough idle connections for 100
// concurrent senders, so the baseline does not pay for new TCP connections.
var httpClient = &http.Client{
	Timeout: 3 * time.Minute,
	Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	},
}

type mxUser struct {
	id  id.UserID
	cli *mautrix.Client
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// register creates a Matrix user (open registration, m.login.dummy) and returns it logged in.
func register(ctx context.Context, hsURL, localpart string) (*mxUser, error) {
	cli, err := mautrix.NewClient(hsURL, "", "")
	if err != nil {
		return nil, err
	}
	cli.Client = httpClient
	resp, err := cli.RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: localpart, Password: "bench-" + randomHex(8)})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", localpart, err)
	}
	cli.UserID, cli.AccessToken = resp.UserID, resp.AccessToken
	return &mxUser{id: resp.UserID, cli: cli}, nil
}

// sighting is the first time the observer's /sync returned a message body.
type sighting struct {
	at     time.Time
	room   id.RoomID
	sender id.UserID
}

// observer is a Matrix user whose /sync long poll runs for the whole benchmark: it
// records when each message body first arrives and joins every room it is invited to.
type observer struct {
	*mxUser
	mu      sync.Mutex
	seen    map[string]sighting
	joined  map[id.RoomID]bool
	waiters []*waiter
	errs    int
}

type waiter struct {
	pred func(o *observer) bool
	ch   chan struct{}
}

func newObserver(u *mxUser) *observer {
	return &observer{mxUser: u, seen: map[string]sighting{}, joined: map[id.RoomID]bool{}}
}

func (o *observer) run(ctx context.Context, t *testing.T) {
	filter, err := o.cli.CreateFilter(ctx, &mautrix.Filter{
		Room: &mautrix.RoomFilter{Timeline: &mautrix.FilterPart{Limit: 5000}},
		// Only messages matter; no presence or account data.
		Presence:    &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		AccountData: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
	})
	if err != nil {
		t.Errorf("observer filter: %v", err)
		return
	}
	since := ""
	for ctx.Err() == nil {
		resp, err := o.cli.SyncRequest(ctx, 30000, since, filter.FilterID, false, event.PresenceOffline)
		now := time.Now()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			o.mu.Lock()
			o.errs++
			o.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond): // back-off after a failed request
			}
			continue
		}
		since = resp.NextBatch
		for roomID := range resp.Rooms.Invite {
			go func() { _, _ = o.cli.JoinRoomByID(ctx, roomID) }()
		}
		o.mu.Lock()
		for roomID, room := range resp.Rooms.Join {
			o.joined[roomID] = true
			for _, evt := range room.Timeline.Events {
				if evt.Type != event.EventMessage {
					continue
				}
				body, _ := evt.Content.Raw["body"].(string)
				if _, ok := o.seen[body]; !ok && body != "" {
					o.seen[body] = sighting{at: now, room: roomID, sender: evt.Sender}
				}
			}
		}
		kept := o.waiters[:0]
		for _, w := range o.waiters {
			if w.pred(o) {
				close(w.ch)
			} else {
				kept = append(kept, w)
			}
		}
		o.waiters = kept
		o.mu.Unlock()
	}
}

// waitFor blocks until pred (called with o.mu held) holds, re-checked after each /sync.
func (o *observer) waitFor(ctx context.Context, pred func(o *observer) bool) error {
	o.mu.Lock()
	if pred(o) {
		o.mu.Unlock()
		return nil
	}
	w := &waiter{pred: pred, ch: make(chan struct{})}
	o.waiters = append(o.waiters, w)
	o.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitBodies waits until every body has been seen.
func (o *observer) waitBodies(ctx context.Context, bodies []string) error {
	err := o.waitFor(ctx, func(o *observer) bool {
		for _, b := range bodies {
			if _, ok := o.seen[b]; !ok {
				return false
			}
		}
		return true
	})
	if err != nil {
		o.mu.Lock()
		missing := 0
		for _, b := range bodies {
			if _, ok := o.seen[b]; !ok {
				missing++
			}
		}
		o.mu.Unlock()
		return fmt.Errorf("%d of %d messages never reached the observer: %w", missing, len(bodies), err)
	}
	return nil
}

func (o *observer) sightingOf(body string) (sighting, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.seen[body]
	return s, ok
}

// directRoom creates a room owned by sender with the observer in it and waits until the
// observer has joined.
func directRoom(ctx context.Context, sender *mxUser, o *observer, name string) (id.RoomID, error) {
	resp, err := sender.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: name, Preset: "private_chat", Invite: []id.UserID{o.id}})
	if err != nil {
		return "", err
	}
	room := resp.RoomID
	if err := o.waitFor(ctx, func(o *observer) bool { return o.joined[room] }); err != nil {
		return "", fmt.Errorf("observer never joined %s: %w", name, err)
	}
	return room, nil
}

func sendText(ctx context.Context, u *mxUser, room id.RoomID, body string) error {
	_, err := u.cli.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body})
	return err
}

func localpart(prefix string, i int) string { return strings.ToLower(fmt.Sprintf("%s%04d", prefix, i)) }
