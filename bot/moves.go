package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/health"
)

// kvMoves keeps the rooms that moved: old room id -> its replacement.
const kvMoves = "rooms.moves"

// moves follows rooms that move. An upgrade to a new room version leaves a
// tombstone in the old room naming its replacement; from then on the
// replacement is that room for everything the bot does: a room the config
// names (by id or alias) resolves to the newest room of its chain, what is
// queued for the old room goes to the new one, and what the room chose in
// chat moves with it (Options.RoomMoved). The chain is kept in the store,
// so a restart with the unchanged config still goes to the newest room.
type moves struct {
	kv    KV
	log   zerolog.Logger
	names *RoomNames // holds the chain: what every configured name means now

	mu      sync.Mutex
	blocked map[id.RoomID]string // replacements the bot could not join, and why
	last    time.Time            // the latest move followed
}

func newMoves(kv KV, names *RoomNames, log zerolog.Logger) *moves {
	return &moves{kv: kv, names: names, log: log, blocked: map[id.RoomID]string{}}
}

// load reads the chain kept by earlier runs.
func (m *moves) load(ctx context.Context) error {
	raw, ok, err := m.kv.Get(ctx, kvMoves)
	if err != nil || !ok {
		return err
	}
	chain := map[id.RoomID]id.RoomID{}
	if err := json.Unmarshal([]byte(raw), &chain); err != nil {
		return err
	}
	m.names.loadMoves(chain)
	return nil
}

// newest follows room's chain to its latest replacement.
func (m *moves) newest(room id.RoomID) id.RoomID { return m.names.newest(room) }

// record keeps old -> replacement; false when it was known already.
func (m *moves) record(ctx context.Context, old, replacement id.RoomID, now time.Time) (bool, error) {
	if !m.names.moved(old, replacement) {
		return false, nil
	}
	m.mu.Lock()
	m.last = now
	m.mu.Unlock()
	raw, err := json.Marshal(m.names.moves())
	if err != nil {
		return true, err
	}
	return true, m.kv.Put(ctx, kvMoves, string(raw))
}

// isReplacement reports whether room replaces a room the bot served: its
// invite is accepted from anyone.
func (m *moves) isReplacement(room id.RoomID) bool { return m.oldOf(room) != "" }

// replaced lists the rooms that moved (old ids).
func (m *moves) replaced() []id.RoomID { return slices.Collect(maps.Keys(m.names.moves())) }

func (m *moves) joinFailed(room id.RoomID, why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blocked[room] = why
}

func (m *moves) joined(room id.RoomID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blocked, room)
}

// Health is the moves' line in !status: fine while every replacement
// could be joined; else which, and what to do.
func (m *moves) Health() health.Report {
	n := len(m.names.moves())
	m.mu.Lock()
	defer m.mu.Unlock()
	r := health.Report{Part: "room upgrades", OK: len(m.blocked) == 0, Last: m.last, Since: m.last}
	switch {
	case len(m.blocked) > 0:
		var parts []string
		for room, why := range m.blocked {
			parts = append(parts, fmt.Sprintf("%s (the replacement of %s) refuses the bot: %s; invite the bot there", room, m.oldOf(room), why))
		}
		slices.Sort(parts)
		r.Detail = strings.Join(parts, "; ")
	case n == 0:
		r.Detail = "no room the bot serves has moved"
	case n == 1:
		r.Detail = "followed 1 room upgrade"
	default:
		r.Detail = fmt.Sprintf("followed %d room upgrades", n)
	}
	return r
}

func (m *moves) oldOf(room id.RoomID) id.RoomID {
	for old, next := range m.names.moves() {
		if next == room {
			return old
		}
	}
	return ""
}

// RoomMoves says, for !status, whether the bot followed every room that
// moved.
func (b *Bot) RoomMoves() health.Reporter { return b.moves }

// followTombstone acts on a tombstone in a room the bot is in: it records
// the move, joins the replacement (through the server of whoever upgraded
// the room, and the bot's own), and tells the app, so what the room chose
// moves with it. A replacement that refuses the bot is named in !status
// and joined once the bot is invited.
func (b *Bot) followTombstone(ctx context.Context, evt *event.Event) {
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
		return
	}
	tomb := evt.Content.AsTombstone()
	if tomb.ReplacementRoom == "" || tomb.ReplacementRoom == evt.RoomID {
		return
	}
	b.moveTo(ctx, evt.RoomID, tomb.ReplacementRoom, []string{evt.Sender.Homeserver(), b.cfg.UserID.Homeserver()})
}

// moveTo follows one move from old to replacement.
func (b *Bot) moveTo(ctx context.Context, old, replacement id.RoomID, via []string) {
	log := b.log.With().Str("room_id", old.String()).Str("replacement", replacement.String()).Logger()
	added, err := b.moves.record(ctx, old, replacement, b.now())
	if err != nil {
		log.Error().Err(err).Msg("Recording a room's move failed; it is followed for this run")
	}
	if !added {
		return
	}
	log.Info().Msg("The room was upgraded: following it to its replacement")
	if _, err := b.client.JoinRoom(ctx, replacement.String(), &mautrix.ReqJoinRoom{Via: slices.Compact(via)}); err != nil {
		log.Warn().Err(err).Msg("Cannot join the room's replacement; it is named in !status and joined when the bot is invited")
		b.moves.joinFailed(replacement, err.Error())
	} else {
		b.replacementJoined(ctx, replacement)
	}
	if b.roomMoved != nil {
		b.roomMoved(ctx, old, replacement)
	}
	if b.directs.is(ctx, old) {
		if err := b.directs.mark(ctx, replacement); err != nil {
			log.Error().Err(err).Msg("Recording the replacement as a direct chat failed")
		}
	}
	if b.welcomer != nil {
		b.welcomer.resolveRooms(ctx, b.rooms.id)
	}
	b.sender.roomMoved(old)
}

// replacementJoined readies a replacement the bot is now in: command
// descriptions, what encryption knows of it.
func (b *Bot) replacementJoined(ctx context.Context, room id.RoomID) {
	b.moves.joined(room)
	if b.encryption.e2ee != nil {
		b.learnEncryptedRooms(ctx, []id.RoomID{room})
	}
	b.describeIn(context.WithoutCancel(ctx), room)
	b.sender.poke()
}

// joinedByInvite readies a room joined after an invite: its command
// descriptions, and if it replaces a room the bot served, the rest.
func (b *Bot) joinedByInvite(ctx context.Context, room id.RoomID) {
	if _, gone := b.access.why(ctx, room); gone {
		b.access.invited(ctx, room)
		b.log.Info().Str("room_id", room.String()).Msg("Invited back into a room the bot had to leave; its messages go out")
		b.sender.roomBack(ctx, room)
	}
	if b.moves.isReplacement(room) {
		b.log.Info().Str("room_id", room.String()).Msg("Invited into the replacement of a room the bot served; following it")
		b.replacementJoined(ctx, room)
		return
	}
	b.describeIn(ctx, room)
}

// followMovesAtStart follows tombstones the bot has not seen yet (a new
// database, or a config naming a room that moved long ago) in the rooms
// it serves, to the newest room of each chain.
func (b *Bot) followMovesAtStart(ctx context.Context, rooms []id.RoomID) {
	for _, room := range rooms {
		for seen := map[id.RoomID]bool{}; !seen[room]; {
			seen[room] = true
			var tomb event.TombstoneEventContent
			err := b.client.StateEvent(ctx, room, event.StateTombstone, "", &tomb)
			if err != nil || tomb.ReplacementRoom == "" {
				break
			}
			b.moveTo(ctx, room, tomb.ReplacementRoom, []string{serverOf(room), b.cfg.UserID.Homeserver()})
			room = tomb.ReplacementRoom
		}
	}
}

// serverOf is the server part of a room id ("" for ids without one, as
// room versions 12 and later make).
func serverOf(room id.RoomID) string {
	_, server, _ := strings.Cut(room.String(), ":")
	return server
}
