package testenv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot/e2ee"
)

// User is a Matrix account on a test homeserver, with its own sync loop
// recording every timeline event it sees, so tests can wait for what the
// bot sends.
type User struct {
	*mautrix.Client
	Password string
	filterID string

	// crypto, when set (NewCryptoUser), sees every sync response first
	// and decrypts what the user records; E2EE is the same encryption.
	crypto userCrypto
	E2EE   *e2ee.E2EE

	mu      sync.Mutex
	events  []*event.Event
	changed chan struct{} // closed and replaced whenever events grows
	stop    context.CancelFunc
	done    chan struct{}
}

// Register creates the account localpart with password and returns it
// logged in. It does not sync until StartSync.
func (d *Dendrite) Register(ctx context.Context, localpart, password string) (*User, error) {
	cli, err := mautrix.NewClient(d.URL, "", "")
	if err != nil {
		return nil, err
	}
	resp, err := cli.RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: localpart, Password: password})
	if err != nil {
		return nil, fmt.Errorf("registering %s: %w", localpart, err)
	}
	cli.SetCredentials(resp.UserID, resp.AccessToken)
	cli.DeviceID = resp.DeviceID
	return &User{Client: cli, Password: password, changed: make(chan struct{})}, nil
}

// CreateRoom creates a public room with name and invites the given users.
func (u *User) CreateRoom(ctx context.Context, name string, invite ...id.UserID) (id.RoomID, error) {
	resp, err := u.Client.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: name, Preset: "public_chat", Invite: invite})
	if err != nil {
		return "", err
	}
	return resp.RoomID, nil
}

// Say sends a plain text message and returns its event id.
func (u *User) Say(ctx context.Context, room id.RoomID, text string) (id.EventID, error) {
	resp, err := u.SendText(ctx, room, text)
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// SayInThread sends a plain text message inside the thread of root.
func (u *User) SayInThread(ctx context.Context, room id.RoomID, root id.EventID, text string) (id.EventID, error) {
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: text,
		RelatesTo: (&event.RelatesTo{}).SetThread(root, root)}
	resp, err := u.SendMessageEvent(ctx, room, event.EventMessage, content)
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// StartSync starts recording timeline events in the background, from now
// on. It returns after the first sync, so nothing sent afterwards is missed.
func (u *User) StartSync(ctx context.Context) error {
	// A large timeline limit: a burst of messages (a load test) must not
	// come as a "limited" timeline with events left out.
	filter, err := u.CreateFilter(ctx, &mautrix.Filter{Room: &mautrix.RoomFilter{Timeline: &mautrix.FilterPart{Limit: 1000}}})
	if err != nil {
		return err
	}
	u.filterID = filter.FilterID
	first, err := u.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: 0, FilterID: u.filterID})
	if err != nil {
		return err
	}
	if u.crypto != nil {
		u.crypto.process(ctx, first, "")
	}
	ctx, u.stop = context.WithCancel(ctx)
	u.done = make(chan struct{})
	go u.syncLoop(ctx, first.NextBatch)
	return nil
}

// StopSync ends the background sync.
func (u *User) StopSync() {
	if u.stop != nil {
		u.stop()
		<-u.done
	}
}

func (u *User) syncLoop(ctx context.Context, since string) {
	defer close(u.done)
	for ctx.Err() == nil {
		resp, err := u.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: 10000, Since: since, FilterID: u.filterID})
		if err != nil {
			if ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond) // homeserver hiccup: retry soon
			}
			continue
		}
		if u.crypto != nil {
			u.crypto.process(ctx, resp, since)
		}
		since = resp.NextBatch
		u.record(ctx, resp)
	}
}

func (u *User) record(ctx context.Context, resp *mautrix.RespSync) {
	var fresh []*event.Event
	for roomID, room := range resp.Rooms.Join {
		for _, evt := range room.Timeline.Events {
			evt.RoomID = roomID
			if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
				continue
			}
			if evt.Type == event.EventEncrypted && u.crypto != nil {
				evt = u.crypto.decrypt(ctx, evt)
			}
			fresh = append(fresh, evt)
		}
	}
	if len(fresh) == 0 {
		return
	}
	u.mu.Lock()
	u.events = append(u.events, fresh...)
	close(u.changed)
	u.changed = make(chan struct{})
	u.mu.Unlock()
}

// userCrypto is what a user's encryption does in its sync loop.
type userCrypto interface {
	process(ctx context.Context, resp *mautrix.RespSync, since string)
	// decrypt returns the plaintext event, or evt itself when it cannot
	// be read.
	decrypt(ctx context.Context, evt *event.Event) *event.Event
}

// Events returns every event recorded so far.
func (u *User) Events() []*event.Event {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*event.Event(nil), u.events...)
}

// Count returns how many recorded events match.
func (u *User) Count(match func(*event.Event) bool) int {
	n := 0
	for _, e := range u.Events() {
		if match(e) {
			n++
		}
	}
	return n
}

// WaitFor returns the first recorded event that matches, waiting for new
// ones until ctx ends.
func (u *User) WaitFor(ctx context.Context, match func(*event.Event) bool) (*event.Event, error) {
	seen := 0
	for {
		u.mu.Lock()
		events, changed := u.events[seen:], u.changed
		seen = len(u.events)
		u.mu.Unlock()
		for _, e := range events {
			if match(e) {
				return e, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no matching event: %w", ctx.Err())
		case <-changed:
		}
	}
}

// ReplyTo matches a message that replies to evt (in or out of a thread).
func ReplyTo(evt id.EventID) func(*event.Event) bool {
	return func(e *event.Event) bool {
		msg := e.Content.AsMessage()
		return e.Type == event.EventMessage && msg.RelatesTo.GetReplyTo() == evt
	}
}

// Body returns the plain body of a message event as clients show it: for
// an edit, the new content (the top-level body is a fallback, cut short).
func Body(e *event.Event) string {
	msg := e.Content.AsMessage()
	if msg.NewContent != nil {
		return msg.NewContent.Body
	}
	return msg.Body
}

// WaitCount waits until at least n recorded events match, or ctx ends.
func (u *User) WaitCount(ctx context.Context, n int, match func(*event.Event) bool) (int, error) {
	for {
		u.mu.Lock()
		changed := u.changed
		events := u.events
		u.mu.Unlock()
		got := 0
		for _, e := range events {
			if match(e) {
				got++
			}
		}
		if got >= n {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("%d of %d matching events: %w", got, n, ctx.Err())
		case <-changed:
		}
	}
}
