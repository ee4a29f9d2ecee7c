package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// memKV is a KV in memory.
type memKV map[string]string

func (m memKV) Get(_ context.Context, k string) (string, bool, error) {
	v, ok := m[k]
	return v, ok, nil
}
func (m memKV) Put(_ context.Context, k, v string) error { m[k] = v; return nil }

type welcomeEnv struct {
	w    *welcomer
	now  time.Time
	sent []string // the names each welcome message greets
}

const welcomeRoom = id.RoomID("!welcome:x")

func newWelcomeEnv(perMinute int) *welcomeEnv {
	e := &welcomeEnv{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	start := e.now.Add(-time.Hour)
	e.w = &welcomer{
		opts: WelcomeOptions{MaxPerMinute: perMinute, Render: func(names []string, _ string) Reply {
			return TextReply("%s", strings.Join(names, ", "))
		}},
		kv: memKV{}, now: func() time.Time { return e.now }, firstStart: func() time.Time { return start },
		self: "@ibbot:x", ignore: []id.UserID{"@otherbot:x"}, maxAge: 5 * time.Minute, prefix: "!", log: zerolog.Nop(),
		enqueue: func(_ context.Context, _ string, room id.RoomID, c *event.MessageEventContent) error {
			e.sent = append(e.sent, room.String()+": "+c.Body)
			return nil
		},
		rooms: map[id.RoomID]bool{welcomeRoom: true}, pending: map[id.RoomID][]joiner{}, sent: map[id.RoomID][]time.Time{},
	}
	return e
}

// join is a membership event: user joins room at the env's now minus ago,
// from prev ("" for a first join).
func (e *welcomeEnv) join(room id.RoomID, user id.UserID, ago time.Duration, prev event.Membership) {
	evt := &event.Event{Type: event.StateMember, RoomID: room, StateKey: ptr(user.String()), Sender: user,
		Timestamp: e.now.Add(-ago).UnixMilli()}
	raw, _ := json.Marshal(map[string]any{"membership": "join", "displayname": strings.TrimPrefix(user.Localpart(), "@")})
	evt.Content = event.Content{VeryRaw: raw}
	if prev != "" {
		old, _ := json.Marshal(map[string]any{"membership": prev})
		evt.Unsigned.PrevContent = &event.Content{VeryRaw: old}
	}
	e.w.noteJoin(context.Background(), evt)
}

func ptr(s string) *string { return &s }

func TestWelcomeOncePerPersonEver(t *testing.T) {
	e := newWelcomeEnv(3)
	e.join(welcomeRoom, "@ana:x", 0, "")
	e.w.flush(context.Background())
	e.now = e.now.Add(time.Hour)
	e.join(welcomeRoom, "@ana:x", 0, event.MembershipLeave) // left and came back
	e.w.flush(context.Background())
	if len(e.sent) != 1 || e.sent[0] != "!welcome:x: ana" {
		t.Errorf("welcomes: %q, want one for ana", e.sent)
	}
}

func TestWelcomeSkipsWhatIsNotANewcomer(t *testing.T) {
	e := newWelcomeEnv(10)
	e.join(welcomeRoom, "@renamed:x", 0, event.MembershipJoin) // a profile change
	e.join(welcomeRoom, "@old:x", 2*time.Hour, "")             // before the bot first came
	e.join(welcomeRoom, "@late:x", 10*time.Minute, "")         // seen late, after downtime
	e.join(welcomeRoom, "@otherbot:x", 0, "")                  // matrix.ignore_users
	e.join(welcomeRoom, "@ibbot:x", 0, "")                     // the bot itself
	e.join("!elsewhere:x", "@ana:x", 0, "")                    // not a welcome room
	e.w.flush(context.Background())
	if len(e.sent) != 0 {
		t.Errorf("welcomed %q, want nobody", e.sent)
	}
}

// TestJoinWaveIsOneMessageWithinTheBudget: people who join together are
// greeted in one message; over the per-minute budget they wait for the
// next minute instead of flooding the room.
func TestJoinWaveIsOneMessageWithinTheBudget(t *testing.T) {
	e := newWelcomeEnv(1)
	for _, u := range []id.UserID{"@a:x", "@b:x", "@c:x"} {
		e.join(welcomeRoom, u, 0, "")
	}
	e.w.flush(context.Background())
	e.join(welcomeRoom, "@d:x", 0, "")
	e.w.flush(context.Background()) // the budget of one a minute is spent
	if len(e.sent) != 1 || e.sent[0] != "!welcome:x: a, b, c" {
		t.Fatalf("after the wave: %q", e.sent)
	}
	e.now = e.now.Add(time.Minute)
	e.w.flush(context.Background())
	if len(e.sent) != 2 || e.sent[1] != "!welcome:x: d" {
		t.Errorf("after a minute: %q, want d greeted", e.sent)
	}
}
