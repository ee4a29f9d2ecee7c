package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/health"
)

// kvGonePrefix keeps, per room, why the bot was made to leave it.
const kvGonePrefix = "room.gone:"

// access knows the rooms that let the bot go: it was kicked or banned
// (kept in the store: the bot rejoins only when invited again, not at its
// next start), or its power level was lowered below what sending needs
// (read from the room's power levels as they change). The sender sends
// nothing there; their messages wait, counted, and the room is named in
// !status. Safe for concurrent use.
type access struct {
	self  id.UserID
	kv    KV                   // "" once invited back
	gauge *prometheus.GaugeVec // ibbot_room_barred{room,why}; may be nil
	log   zerolog.Logger

	mu    sync.Mutex
	gone  map[id.RoomID]string // kicked or banned, and how
	muted map[id.RoomID]string // may not send, and why
	fine  map[id.RoomID]bool   // looked up in the store: not gone
}

func newAccess(self id.UserID, kv KV, gauge *prometheus.GaugeVec, log zerolog.Logger) *access {
	return &access{self: self, kv: kv, gauge: gauge, log: log, gone: map[id.RoomID]string{}, muted: map[id.RoomID]string{}, fine: map[id.RoomID]bool{}}
}

// why says why the bot may not send in room, if it may not.
func (a *access) why(ctx context.Context, room id.RoomID) (string, bool) {
	a.mu.Lock()
	reason, gone := a.gone[room]
	if !gone {
		reason, gone = a.muted[room]
	}
	fine := a.fine[room]
	a.mu.Unlock()
	if gone || fine {
		return reason, gone
	}
	stored, ok, err := a.kv.Get(ctx, kvGonePrefix+room.String())
	if err != nil {
		return "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if ok && stored != "" {
		a.gone[room] = stored
		return stored, true
	}
	a.fine[room] = true
	return "", false
}

// expected reports a room whose invite is accepted from anyone in it:
// one the bot was made to leave (it served it; the invite is the way back).
func (a *access) expected(room id.RoomID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, gone := a.gone[room]
	return gone
}

// left reports whether the bot was made to leave room (not to be joined
// at start).
func (a *access) left(ctx context.Context, room id.RoomID) bool {
	why, gone := a.why(ctx, room)
	a.mu.Lock()
	defer a.mu.Unlock()
	_, muted := a.muted[room]
	return gone && !muted && why != ""
}

// membership acts on the bot's own membership: kicked or banned by
// someone else marks the room gone, with who and why.
func (a *access) membership(ctx context.Context, evt *event.Event) {
	if evt.GetStateKey() != a.self.String() {
		return
	}
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
		return
	}
	m := evt.Content.AsMember()
	if m.Membership == event.MembershipJoin {
		if _, gone := a.why(ctx, evt.RoomID); gone {
			a.invited(ctx, evt.RoomID) // in again: whatever came before this join is over
		}
		return
	}
	if evt.Sender == a.self || unbanned(evt) {
		return
	}
	var how, why string
	switch m.Membership {
	case event.MembershipLeave:
		how, why = "kicked by "+evt.Sender.String(), "kicked"
	case event.MembershipBan:
		how, why = "banned by "+evt.Sender.String(), "banned"
	default:
		return
	}
	a.set(evt.RoomID, why, 1)
	if m.Reason != "" {
		how += fmt.Sprintf(" (%q)", m.Reason)
	}
	reason := "the bot was " + how + "; it sends nothing there until invited again"
	a.mu.Lock()
	a.gone[evt.RoomID] = reason
	delete(a.fine, evt.RoomID)
	a.mu.Unlock()
	if err := a.kv.Put(ctx, kvGonePrefix+evt.RoomID.String(), reason); err != nil {
		a.log.Error().Err(err).Msg("Recording that the bot left a room failed; it is remembered for this run")
	}
	a.log.Warn().Str("room_id", evt.RoomID.String()).Str("by", evt.Sender.String()).Str("how", string(m.Membership)).
		Msg("The bot was made to leave a room; its messages wait until it is invited again")
}

// invited forgets that the bot left room: it was invited back.
func (a *access) invited(ctx context.Context, room id.RoomID) {
	a.mu.Lock()
	delete(a.gone, room)
	a.mu.Unlock()
	a.set(room, "kicked", 0)
	a.set(room, "banned", 0)
	if err := a.kv.Put(ctx, kvGonePrefix+room.String(), ""); err != nil {
		a.log.Error().Err(err).Str("room_id", room.String()).Msg("Forgetting that the bot had left the room failed")
	}
}

// powerLevels reads the room's power levels as they change: below what a
// message needs, the room is set aside with that reason, and taken back
// when the level allows sending again.
// It reports whether the bot may send there.
func (a *access) powerLevels(evt *event.Event) (allowed bool) {
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
		return false
	}
	pl := evt.Content.AsPowerLevels()
	have, need := pl.GetUserLevel(a.self), pl.GetEventLevel(event.EventMessage)
	a.mu.Lock()
	defer a.mu.Unlock()
	_, was := a.muted[evt.RoomID]
	if have >= need {
		delete(a.muted, evt.RoomID)
		a.set(evt.RoomID, "power_level", 0)
		return true
	}
	a.set(evt.RoomID, "power_level", 1)
	a.muted[evt.RoomID] = fmt.Sprintf("the bot's power level there (%d) is below the %d sending needs", have, need)
	if !was {
		a.log.Warn().Str("room_id", evt.RoomID.String()).Int("level", have).Int("needed", need).
			Msg("The bot may no longer send in a room; its messages wait")
	}
	return false
}

// set shows (1) or hides (0) a room in ibbot_room_barred.
func (a *access) set(room id.RoomID, why string, v float64) {
	if a.gauge == nil {
		return
	}
	if v == 0 {
		a.gauge.DeleteLabelValues(room.String(), why)
		return
	}
	a.gauge.WithLabelValues(room.String(), why).Set(v)
}

// Health names, for !status, the rooms the bot may not send in.
func (a *access) Health() health.Report {
	a.mu.Lock()
	defer a.mu.Unlock()
	var parts []string
	for room, why := range a.gone {
		parts = append(parts, room.String()+": "+why)
	}
	for room, why := range a.muted {
		parts = append(parts, room.String()+": "+why)
	}
	slices.Sort(parts)
	if len(parts) == 0 {
		return health.Report{Part: "rooms", OK: true, Detail: "no room has let the bot go"}
	}
	return health.Report{Part: "rooms", Detail: "the bot may not send in " + strings.Join(parts, "; ") + " (their messages wait)"}
}

// unbanned reports a leave that lifts a ban (what came before it was a
// ban): not a kick.
func unbanned(evt *event.Event) bool {
	prev := evt.Unsigned.PrevContent
	if prev == nil {
		return false
	}
	if err := prev.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
		return false
	}
	return prev.AsMember().Membership == event.MembershipBan
}
