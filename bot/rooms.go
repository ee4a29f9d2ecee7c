package bot

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
)

// unreachable tracks the rooms the bot cannot post to right now (an alias
// that does not resolve, a room it is not in and cannot join). Their
// messages wait in the queue, untouched, while the sender serves every
// other room; each such room is tried again after a growing pause. A room
// is logged once when it becomes unreachable and once when it works again.
type unreachable struct {
	// count, when set, counts a room's waiting messages for Health, so
	// !status shows them as they are, not as when the room last failed.
	count func(room string) (int, bool)

	backoff backoff.Policy       // a room that refuses the bot
	trouble backoff.Policy       // a room whose sends keep failing (5xx, timeouts)
	gauge   *prometheus.GaugeVec // ibbot_room_unreachable{room}; may be nil
	log     zerolog.Logger

	mu       sync.Mutex
	rooms    map[string]*roomTrouble
	lastSent time.Time
}

// roomTrouble is why a room's messages wait, and until when.
type roomTrouble struct {
	reason   string
	since    time.Time
	retryAt  time.Time
	failures int
	waiting  int // messages queued for the room when last counted
}

func newUnreachable(log zerolog.Logger, gauge *prometheus.GaugeVec) *unreachable {
	return &unreachable{
		backoff: backoff.Policy{Min: 30 * time.Second, Max: 30 * time.Minute},
		trouble: backoff.Policy{Min: 2 * time.Second, Max: 2 * time.Minute},
		gauge:   gauge, log: log, rooms: map[string]*roomTrouble{},
	}
}

// fail records that room could not be posted to at now, and why: it
// refuses the bot, or (transient) its sends keep failing.
func (u *unreachable) fail(room, reason string, waiting int, now time.Time, transient bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, known := u.rooms[room]
	if !known {
		t = &roomTrouble{since: now}
		u.rooms[room] = t
		if u.gauge != nil {
			u.gauge.WithLabelValues(room).Set(1)
		}
	}
	if !known || t.reason != reason {
		u.log.Warn().Str("room", room).Str("reason", reason).Int("waiting", waiting).
			Msg("Cannot post to a room; its messages wait while other rooms are served")
	}
	t.reason, t.waiting = reason, waiting
	policy := u.backoff
	if transient {
		policy = u.trouble
	}
	t.retryAt = now.Add(policy.Delay(t.failures))
	t.failures++
}

// ok records a message posted to room at now.
func (u *unreachable) ok(room string, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lastSent = now
	t, known := u.rooms[room]
	if !known {
		return
	}
	delete(u.rooms, room)
	if u.gauge != nil {
		u.gauge.DeleteLabelValues(room)
	}
	u.log.Info().Str("room", room).Dur("after", now.Sub(t.since)).Msg("Posting to the room works again")
}

// forget drops what is known of room's trouble (it moved: its messages
// go elsewhere now).
func (u *unreachable) forget(room string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, known := u.rooms[room]; known {
		delete(u.rooms, room)
		if u.gauge != nil {
			u.gauge.DeleteLabelValues(room)
		}
	}
}

// waiting reports whether room's messages wait at now.
func (u *unreachable) waiting(room string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.rooms[room]
	return ok && now.Before(t.retryAt)
}

// skipped lists the rooms whose messages wait at now, and when the
// earliest of them is due for another try (zero when none is).
func (u *unreachable) skipped(now time.Time) (rooms []string, nextTry time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for room, t := range u.rooms {
		if now.Before(t.retryAt) {
			rooms = append(rooms, room)
			if nextTry.IsZero() || t.retryAt.Before(nextTry) {
				nextTry = t.retryAt
			}
		}
	}
	slices.Sort(rooms)
	return rooms, nextTry
}

// Health is the sending side's line in !status.
func (u *unreachable) Health() health.Report {
	r, troubles := u.snapshot()
	var parts []string
	for _, t := range troubles {
		waiting := t.waiting
		if u.count != nil { // counted outside the lock: it asks the store
			if n, ok := u.count(t.room); ok {
				waiting = n
			}
		}
		parts = append(parts, fmt.Sprintf("%s: %s (%d waiting)", t.room, t.reason, waiting))
	}
	if len(parts) > 0 {
		r.Detail = fmt.Sprintf("cannot post to %d %s, their messages wait: %s", len(parts), map[bool]string{true: "room", false: "rooms"}[len(parts) == 1], strings.Join(parts, "; "))
	}
	return r
}

// namedTrouble is a room's trouble with its name, for Health.
type namedTrouble struct {
	roomTrouble
	room string
}

// snapshot is the report as far as the lock allows, and the rooms in
// trouble, by name.
func (u *unreachable) snapshot() (health.Report, []namedTrouble) {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := health.Report{Part: "sending", OK: len(u.rooms) == 0, Last: u.lastSent}
	if r.OK {
		r.Detail, r.Since = "every room reachable", u.lastSent
		if u.lastSent.IsZero() {
			r.Detail = "nothing sent yet"
		}
		return r, nil
	}
	out := make([]namedTrouble, 0, len(u.rooms))
	for room, t := range u.rooms {
		out = append(out, namedTrouble{*t, room})
		if r.Since.IsZero() || t.since.Before(r.Since) {
			r.Since = t.since
		}
	}
	slices.SortFunc(out, func(a, b namedTrouble) int { return strings.Compare(a.room, b.room) })
	return r, out
}
