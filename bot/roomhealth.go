package bot

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"
)

// roomBack tries at once the rooms set aside that are room: the bot was
// invited back, or may send there again.
func (s *sender) roomBack(ctx context.Context, room id.RoomID) {
	skip, _ := s.rooms.skipped(time.Time{})
	for _, name := range skip {
		if got, err := s.resolve(ctx, name); err == nil && got == room {
			s.rooms.forget(name)
		}
	}
	s.poke()
}

// roomMoved tries a room that moved at once: what was queued for it now
// goes to its replacement.
func (s *sender) roomMoved(old id.RoomID) {
	s.rooms.forget(old.String())
	s.poke()
}

// roomFails sets aside a room that refuses the bot until its next try.
func (s *sender) roomFails(ctx context.Context, room, reason string) {
	waiting, _ := s.queue.PendingIn(context.WithoutCancel(ctx), room)
	s.rooms.fail(room, reason, waiting, s.now(), false)
}

// roomTrouble sets aside a room whose sends keep failing (5xx, timeouts)
// for a shorter while: the homeserver may be the one in trouble.
func (s *sender) roomTrouble(ctx context.Context, room, reason string) {
	waiting, _ := s.queue.PendingIn(context.WithoutCancel(ctx), room)
	s.rooms.fail(room, reason, waiting, s.now(), true)
}
