package bot

import (
	"context"
	"slices"
	"strings"
	"time"

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

// greeter welcomes each person once ever. It runs on the sync goroutine.
type greeter struct {
	opts    WelcomeOptions
	rooms   map[id.RoomID]bool
	pending map[id.RoomID][]joiner
	sent    map[id.RoomID][]time.Time // greetings in the last minute
}

type joiner struct {
	user id.UserID
	name string
}

func newGreeter(opts WelcomeOptions) *greeter {
	return &greeter{opts: opts, rooms: map[id.RoomID]bool{}, pending: map[id.RoomID][]joiner{}, sent: map[id.RoomID][]time.Time{}}
}

// resolveWelcomeRooms turns the configured aliases into ids once at start.
func (b *Bot) resolveWelcomeRooms(ctx context.Context) {
	if b.greeter == nil {
		return
	}
	for _, r := range b.greeter.opts.Rooms {
		roomID, err := b.resolveRoom(ctx, r)
		if err != nil {
			b.log.Warn().Err(err).Str("room", r).Msg("Cannot welcome people in a room whose alias does not resolve")
			continue
		}
		b.greeter.rooms[roomID] = true
	}
}

// noteJoin remembers a newcomer to greet, if the event is a first join in
// a welcome room by someone never greeted.
func (b *Bot) noteJoin(ctx context.Context, evt *event.Event) {
	g := b.greeter
	if g == nil || !g.rooms[evt.RoomID] || evt.Type != event.StateMember || evt.GetStateKey() == b.cfg.UserID.String() {
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
	joined := time.UnixMilli(evt.Timestamp)
	if joined.Before(b.firstStart) || eventAge(evt, b.now()) > b.cfg.CommandMaxAge {
		return
	}
	user := id.UserID(evt.GetStateKey())
	if slices.Contains(b.cfg.IgnoreUsers, user) || slices.ContainsFunc(g.pending[evt.RoomID], func(j joiner) bool { return j.user == user }) {
		return
	}
	if _, done, err := b.kv.Get(ctx, welcomeKey(user)); err != nil || done {
		return
	}
	name := m.Displayname
	if name == "" {
		name = user.Localpart()
	}
	g.pending[evt.RoomID] = append(g.pending[evt.RoomID], joiner{user, name})
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

// flushWelcomes greets everyone waiting, within each room's budget: one
// message names all who joined since the last one, so a join wave costs
// one message, not one per person.
func (b *Bot) flushWelcomes(ctx context.Context) {
	g := b.greeter
	if g == nil {
		return
	}
	now := b.now()
	for room, waiting := range g.pending {
		recent := slices.DeleteFunc(g.sent[room], func(t time.Time) bool { return now.Sub(t) >= time.Minute })
		g.sent[room] = recent
		if len(waiting) == 0 || len(recent) >= g.opts.MaxPerMinute {
			continue // the next sync tries again
		}
		names := make([]string, len(waiting))
		users := make([]string, len(waiting))
		for i, j := range waiting {
			names[i], users[i] = j.name, j.user.String()
		}
		key := "welcome-message:" + room.String() + ":" + strings.Join(users, ",")
		if err := b.enqueue(ctx, key, room, noticeContent(g.opts.Render(names, b.cfg.CommandPrefix), "", "")); err != nil {
			b.log.Error().Err(err).Msg("Queueing a welcome failed")
			continue
		}
		for _, j := range waiting {
			if err := b.kv.Put(ctx, welcomeKey(j.user), now.UTC().Format(time.RFC3339)); err != nil {
				b.log.Error().Err(err).Msg("Remembering a welcome failed")
			}
		}
		g.sent[room] = append(g.sent[room], now)
		delete(g.pending, room)
	}
}
