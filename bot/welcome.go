package bot

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// WelcomeOptions turn on greetings for people joining some rooms.
type WelcomeOptions struct {
	Rooms        []string // ids or aliases
	MaxPerMinute int      // greetings per room and minute; later joiners wait and are greeted together
	// Render writes the greeting for the people named.
	Render func(names []string, prefix string) Reply
}

// welcomer greets each person who joins a welcome room once ever. It runs
// on the sync goroutine only, so its maps need no lock. Its dependencies are
// narrow: a key-value store (who was greeted), a queue to post through, a
// clock, and the bot's first start (joins before it are history).
type welcomer struct {
	opts       WelcomeOptions
	kv         KV
	enqueue    func(ctx context.Context, key string, room id.RoomID, content *event.MessageEventContent) error
	now        func() time.Time
	firstStart func() time.Time
	self       id.UserID
	ignore     []id.UserID
	maxAge     time.Duration // joins older than this (seen after downtime) are history
	prefix     string
	log        zerolog.Logger

	rooms   map[id.RoomID]bool
	pending map[id.RoomID][]joiner
	sent    map[id.RoomID][]time.Time // greetings in the last minute
}

type joiner struct {
	user id.UserID
	name string
}

// newWelcomer is a welcomer for the bot; nil when greetings are off.
func (b *Bot) newWelcomer(opts *WelcomeOptions) *welcomer {
	if opts == nil || len(opts.Rooms) == 0 {
		return nil
	}
	return &welcomer{
		opts: *opts, kv: b.store, enqueue: b.enqueue, now: b.now, firstStart: func() time.Time { return b.firstStart },
		self: b.cfg.UserID, ignore: b.cfg.IgnoreUsers, maxAge: b.cfg.CommandMaxAge, prefix: b.cfg.CommandPrefix, log: b.log,
		rooms: map[id.RoomID]bool{}, pending: map[id.RoomID][]joiner{}, sent: map[id.RoomID][]time.Time{},
	}
}

// resolveRooms turns the configured aliases into ids once at start.
func (w *welcomer) resolveRooms(ctx context.Context, resolve func(context.Context, string) (id.RoomID, error)) {
	for _, r := range w.opts.Rooms {
		roomID, err := resolve(ctx, r)
		if err != nil {
			w.log.Warn().Err(err).Str("room", r).Msg("Cannot welcome people in a room whose alias does not resolve")
			continue
		}
		w.rooms[roomID] = true
	}
}

// noteJoin remembers a newcomer to greet, if the event is a first join in
// a welcome room by someone never greeted.
func (w *welcomer) noteJoin(ctx context.Context, evt *event.Event) {
	if !w.rooms[evt.RoomID] || evt.Type != event.StateMember || evt.GetStateKey() == w.self.String() {
		return
	}
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !strings.Contains(err.Error(), "already parsed") {
		return
	}
	m := evt.Content.AsMember()
	if m.Membership != event.MembershipJoin || prevMembership(evt) == event.MembershipJoin {
		return // a profile change, not a join
	}
	// Only people who joined after the bot first came, and recently: a gap
	// after downtime can bring back joins that are history by now.
	if time.UnixMilli(evt.Timestamp).Before(w.firstStart()) || eventAge(evt, w.now()) > w.maxAge {
		return
	}
	user := id.UserID(evt.GetStateKey())
	if slices.Contains(w.ignore, user) || slices.ContainsFunc(w.pending[evt.RoomID], func(j joiner) bool { return j.user == user }) {
		return
	}
	if _, done, err := w.kv.Get(ctx, welcomeKey(user)); err != nil || done {
		return
	}
	name := m.Displayname
	if name == "" {
		name = user.Localpart()
	}
	w.pending[evt.RoomID] = append(w.pending[evt.RoomID], joiner{user, name})
}

func prevMembership(evt *event.Event) event.Membership {
	if evt.Unsigned.PrevContent == nil {
		return ""
	}
	if err := evt.Unsigned.PrevContent.ParseRaw(event.StateMember); err != nil && !strings.Contains(err.Error(), "already parsed") {
		return ""
	}
	return evt.Unsigned.PrevContent.AsMember().Membership
}

// welcomeKey marks a person as greeted, forever (the outbox forgets after
// a week; the key/value store does not).
func welcomeKey(user id.UserID) string { return "welcomed." + user.String() }

// flush greets everyone waiting, within each room's budget: one message
// names all who joined since the last one, so a join wave costs one
// message, not one per person.
func (w *welcomer) flush(ctx context.Context) {
	now := w.now()
	for room, waiting := range w.pending {
		recent := slices.DeleteFunc(w.sent[room], func(t time.Time) bool { return now.Sub(t) >= time.Minute })
		w.sent[room] = recent
		if len(waiting) == 0 || len(recent) >= w.opts.MaxPerMinute {
			continue // the next sync tries again
		}
		names := make([]string, len(waiting))
		users := make([]string, len(waiting))
		for i, j := range waiting {
			names[i], users[i] = j.name, j.user.String()
		}
		key := "welcome-message:" + room.String() + ":" + strings.Join(users, ",")
		if err := w.enqueue(ctx, key, room, noticeContent(w.opts.Render(names, w.prefix), "", "")); err != nil {
			w.log.Error().Err(err).Msg("Queueing a welcome failed")
			continue
		}
		for _, j := range waiting {
			if err := w.kv.Put(ctx, welcomeKey(j.user), now.UTC().Format(time.RFC3339)); err != nil {
				w.log.Error().Err(err).Msg("Remembering a welcome failed")
			}
		}
		w.sent[room] = append(w.sent[room], now)
		delete(w.pending, room)
	}
}
