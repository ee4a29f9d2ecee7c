package roomscope

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"maunium.net/go/mautrix/id"
)

// Mover gives what one room chose in chat to another (store.DB.MoveRoom).
type Mover interface {
	MoveRoom(ctx context.Context, old, replacement string) error
}

// Registry holds every source's scope and the rooms' settings, read from
// the store once when they are made and again when a room moves.
type Registry struct {
	names Names
	store interface {
		Store
		Mover
	}
	settings *Settings

	mu      sync.Mutex
	loaders []loader
}

type loader struct {
	what string
	load func(context.Context) error
}

// Open reads the rooms' settings, over the config's defaults.
func Open(ctx context.Context, st interface {
	Store
	Mover
}, names Names, defaults Defaults) (*Registry, error) {
	r := &Registry{names: names, store: st}
	r.settings = &Settings{defaults: defaults, names: names, store: st}
	if err := r.add(ctx, "room settings", r.settings.load); err != nil {
		return nil, err
	}
	return r, nil
}

// Settings are the rooms' settings.
func (r *Registry) Settings() *Settings { return r.settings }

// Names says which configured room name is which room.
func (r *Registry) Names() Names { return r.names }

// Add makes a source's scope, reading the rooms' choices for it.
func Add[F any](ctx context.Context, r *Registry, src Source[F]) (*Scope[F], error) {
	s := &Scope[F]{src: src, names: r.names, store: r.store}
	if err := r.add(ctx, src.Kind, s.load); err != nil {
		return nil, err
	}
	return s, nil
}

func (r *Registry) add(ctx context.Context, what string, load func(context.Context) error) error {
	if err := load(ctx); err != nil {
		return fmt.Errorf("reading the rooms' choices (%s): %w", what, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loaders = append(r.loaders, loader{what, load})
	return nil
}

// Moved gives what an upgraded room chose in chat (subscriptions, mutes,
// settings, of every source) to its replacement, and reads them all
// again.
func (r *Registry) Moved(ctx context.Context, old, replacement id.RoomID) error {
	if err := r.store.MoveRoom(ctx, old.String(), replacement.String()); err != nil {
		return fmt.Errorf("moving the room's own choices: %w", err)
	}
	r.mu.Lock()
	loaders := r.loaders
	r.mu.Unlock()
	var errs []error
	for _, l := range loaders {
		if err := l.load(ctx); err != nil {
			errs = append(errs, fmt.Errorf("reading the rooms' choices (%s) again: %w", l.what, err))
		}
	}
	return errors.Join(errs...)
}
