package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// rooms knows the bot's rooms: the ones to join at start, and what each
// alias means. Room ids pass through unchanged.
type rooms struct {
	resolve func(ctx context.Context, alias id.RoomAlias) (*mautrix.RespAliasResolve, error)
	joinFn  func(ctx context.Context, roomIDorAlias string, req *mautrix.ReqJoinRoom) (*mautrix.RespJoinRoom, error)
	toJoin  []string
	log     zerolog.Logger
	// names remembers what each alias means (for the run: an alias
	// rarely moves; a restart asks again) and follows a room id to the
	// newest room of its chain (see moves).
	names *RoomNames
	// left reports a room the bot was made to leave: not joined at start
	// (only an invite brings it back); nil: none.
	left func(ctx context.Context, room id.RoomID) bool
}

// id turns a room as configured (an id or an alias) into the id of the
// room it is now: an upgraded room is its newest replacement.
func (r *rooms) id(ctx context.Context, room string) (id.RoomID, error) {
	got, err := r.named(ctx, room)
	if err != nil {
		return got, err
	}
	return r.names.newest(got), nil
}

// named is the room id a name gives: the id itself, or what the alias
// points to.
func (r *rooms) named(ctx context.Context, room string) (id.RoomID, error) {
	if !strings.HasPrefix(room, "#") {
		return id.RoomID(room), nil
	}
	if got, ok := r.names.named(room); ok {
		return got, nil
	}
	resp, err := r.resolve(ctx, id.RoomAlias(room))
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", room, err)
	}
	r.names.learnAlias(room, resp.RoomID)
	return resp.RoomID, nil
}

// configured lists the ids of the rooms the configuration names, as their
// names give them (before following moves); those that do not resolve are
// left out.
func (r *rooms) configured(ctx context.Context) []id.RoomID {
	var out []id.RoomID
	for _, name := range r.toJoin {
		if room, err := r.named(ctx, name); err == nil {
			out = append(out, room)
		}
	}
	return out
}

// join joins room (an id or an alias), remembering an alias's id.
func (r *rooms) join(ctx context.Context, room string) error {
	resp, err := r.joinFn(ctx, room, nil)
	if err != nil {
		return err
	}
	if strings.HasPrefix(room, "#") {
		r.names.learnAlias(room, resp.RoomID)
	}
	r.log.Info().Str("room", room).Str("room_id", resp.RoomID.String()).Msg("Joined configured room")
	return nil
}

// joinAll joins every room the configuration names anywhere, so no
// announcement goes to a room the bot is not in. A room it cannot join is
// logged; its messages wait in the queue (see unreachable).
func (r *rooms) joinAll(ctx context.Context) {
	for _, room := range r.toJoin {
		if got, err := r.id(ctx, room); err == nil && r.left != nil && r.left(ctx, got) {
			r.log.Warn().Str("room", room).Msg("Not joining a configured room the bot was kicked or banned from; invite it to bring it back")
			continue
		}
		if err := r.join(ctx, room); err != nil {
			r.log.Error().Err(err).Str("room", room).Msg("Joining a configured room failed; check the room name and that the bot is invited (its messages wait)")
		}
	}
}
