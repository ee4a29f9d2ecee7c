package bot

import (
	"context"
	"sync"

	"maunium.net/go/mautrix/id"
)

// directs remembers which rooms are direct chats with the bot (it joined
// them from an invite marked is_direct), across restarts.
type directs struct {
	kv    KV
	mu    sync.Mutex
	known map[id.RoomID]bool
}

func directKey(room id.RoomID) string { return "direct:" + room.String() }

// mark records room as a direct chat.
func (d *directs) mark(ctx context.Context, room id.RoomID) error {
	if err := d.kv.Put(ctx, directKey(room), "1"); err != nil {
		return err
	}
	d.remember(room, true)
	return nil
}

// is reports whether room is a direct chat.
func (d *directs) is(ctx context.Context, room id.RoomID) bool {
	d.mu.Lock()
	direct, seen := d.known[room]
	d.mu.Unlock()
	if seen {
		return direct
	}
	_, direct, err := d.kv.Get(ctx, directKey(room))
	if err == nil {
		d.remember(room, direct)
	}
	return direct
}

func (d *directs) remember(room id.RoomID, direct bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.known == nil {
		d.known = map[id.RoomID]bool{}
	}
	d.known[room] = direct
}
