package testenv

import (
	"context"
	"slices"
	"sync"

	"github.com/osbuild/ibbot/internal/store"
)

// Choices keeps rooms' choices (subscriptions, mutes, settings) in memory,
// as store.DB keeps them in the database, for unit tests of the commands
// that make them.
type Choices struct {
	mu   sync.Mutex
	rows []store.RoomChoice
}

func (c *Choices) RoomChoices(_ context.Context, kind string) ([]store.RoomChoice, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(c.rows), func(r store.RoomChoice) bool { return r.Kind != kind }), nil
}

func (c *Choices) PutRoomChoice(ctx context.Context, r store.RoomChoice) error {
	c.DeleteRoomChoice(ctx, r.Kind, r.RoomID, r.Target)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rows = append(c.rows, r)
	return nil
}

func (c *Choices) DeleteRoomChoice(_ context.Context, kind, room, target string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rows = slices.DeleteFunc(c.rows, func(r store.RoomChoice) bool { return r.Kind == kind && r.RoomID == room && r.Target == target })
	return nil
}

// MoveRoom gives one room's choices to another, as store.DB.MoveRoom.
func (c *Choices) MoveRoom(_ context.Context, old, replacement string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.rows {
		if c.rows[i].RoomID == old {
			c.rows[i].RoomID = replacement
		}
	}
	return nil
}
