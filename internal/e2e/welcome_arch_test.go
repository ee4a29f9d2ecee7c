package e2e

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/app"
	"github.com/osbuild/ibbot/internal/testenv"
)

func welcomeFor(name string) func(*event.Event) bool {
	return func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "Welcome, ") && strings.Contains(testenv.Body(e), name)
	}
}

// TestWelcome: a newcomer is greeted once ever, even after leaving and
// coming back; a join wave beyond the budget is greeted in one message.
func TestWelcome(t *testing.T) {
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.Welcome.Rooms = []string{s.room.String()}
	cfg.Welcome.MaxPerMinute = 1
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	startBotWith(t, cfg, app.Options{Now: now})
	ctx := context.Background()

	bob := s.hs.NewUser(t, "bob")
	if _, err := bob.JoinRoomByID(ctx, s.room); err != nil {
		t.Fatal(err)
	}
	greeting := s.human.MustWait(t, wait, "bob's welcome", welcomeFor("bob"))
	if !strings.Contains(testenv.Body(greeting), "!contribute") {
		t.Errorf("welcome does not point at !contribute: %s", testenv.Body(greeting))
	}
	bob.LeaveRoom(ctx, s.room)
	bob.JoinRoomByID(ctx, s.room)

	var wave []*testenv.User
	for _, name := range []string{"carol", "dave", "erin"} {
		u := s.hs.NewUser(t, name)
		if _, err := u.JoinRoomByID(ctx, s.room); err != nil {
			t.Fatal(err)
		}
		wave = append(wave, u)
	}
	s.settle(t) // the budget (1 a minute) is spent: the wave waits
	offset.Add(int64(61 * time.Second))
	s.settle(t) // a sync after the minute lets the wave through
	together := s.human.MustWait(t, wait, "the wave's welcome", welcomeFor("carol"))
	for _, u := range wave {
		if !strings.Contains(testenv.Body(together), u.UserID.Localpart()) {
			t.Errorf("wave welcome %q misses %s", testenv.Body(together), u.UserID.Localpart())
		}
	}
	if n := s.human.Count(welcomeFor("bob")); n != 1 {
		t.Errorf("bob welcomed %d times, want once ever", n)
	}
	if n := s.human.Count(func(e *event.Event) bool { return isNotice(e) && strings.HasPrefix(testenv.Body(e), "Welcome, ") }); n != 2 {
		t.Errorf("%d welcome messages, want 2 (bob; the wave)", n)
	}
}

// TestArchPostsTheDiagram: !arch answers with text and the rendered
// diagram as an m.image, uploaded once however often it is asked for.
func TestArchPostsTheDiagram(t *testing.T) {
	s := newStack(t)
	startBot(t, s.config(s.hs.URL))
	var urls []string
	for range 2 {
		cmd := s.human.MustSay(t, s.room, "!arch")
		s.human.MustWait(t, wait, "the !arch text", func(e *event.Event) bool {
			return testenv.ReplyTo(cmd)(e) && isNotice(e) && strings.Contains(testenv.Body(e), "Flow:")
		})
		img := s.human.MustWait(t, wait, "the diagram image", func(e *event.Event) bool {
			return testenv.ReplyTo(cmd)(e) && e.Content.AsMessage().MsgType == event.MsgImage
		})
		msg := img.Content.AsMessage()
		if msg.Info == nil || msg.Info.MimeType != "image/png" || msg.Info.Width != 1520 {
			t.Errorf("image info: %+v", msg.Info)
		}
		urls = append(urls, string(msg.URL))
	}
	if urls[0] == "" || urls[0] != urls[1] {
		t.Errorf("the same diagram was uploaded twice: %v", urls)
	}
}

// startBotWith is startBot with app options (an injected clock).
func startBotWith(t *testing.T, cfg *config.Config, opts app.Options) {
	t.Helper()
	started := make(chan *bot.Bot, 1)
	prev := opts.Started
	opts.Started = func(b *bot.Bot) {
		if prev != nil {
			prev(b)
		}
		started <- b
	}
	startBotOpts(t, cfg, opts, started)
}
