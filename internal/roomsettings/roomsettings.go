// Package roomsettings keeps what rooms set for themselves in chat (!gh
// settings threads, !gh default-repo, !deploys on|off): kept in the
// database, applied at once, laid over the config's per-room settings.
package roomsettings

import (
	"context"
	"slices"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/store"
)

// kind is the kind of the settings' rows in the store (room_choices).
const kind = "setting"

// Store is where the settings are kept.
type Store interface {
	RoomChoices(ctx context.Context, kind string) ([]store.RoomChoice, error)
	PutRoomChoice(ctx context.Context, r store.RoomChoice) error
}

// Settings are the rooms' own settings. Safe for concurrent use.
type Settings struct {
	store  Store
	mu     sync.RWMutex
	values map[id.RoomID]map[string]string
}

// Load reads the settings from the store.
func Load(ctx context.Context, st Store) (*Settings, error) {
	s := &Settings{store: st}
	return s, s.Reload(ctx)
}

// Reload reads the settings from the store again (a room moved: its
// settings now belong to its replacement).
func (s *Settings) Reload(ctx context.Context) error {
	rows, err := s.store.RoomChoices(ctx, kind)
	if err != nil {
		return err
	}
	values := map[id.RoomID]map[string]string{}
	for _, r := range rows {
		if values[id.RoomID(r.RoomID)] == nil {
			values[id.RoomID(r.RoomID)] = map[string]string{}
		}
		values[id.RoomID(r.RoomID)][r.Target] = r.Spec
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values = values
	return nil
}

func (s *Settings) remember(room id.RoomID, key, value string) {
	if s.values[room] == nil {
		s.values[room] = map[string]string{}
	}
	s.values[room][key] = value
}

// Get is a room's value for key, if it set one.
func (s *Settings) Get(room id.RoomID, key string) (string, bool) {
	if s == nil {
		return "", false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.values[room][key]
	return v, ok
}

// Set records a room's value for key, said by whom, at.
func (s *Settings) Set(ctx context.Context, room id.RoomID, key, value string, by id.UserID, at time.Time) error {
	err := s.store.PutRoomChoice(ctx, store.RoomChoice{Kind: kind, RoomID: room.String(), Target: key, Spec: value, By: by.String(), At: at})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remember(room, key, value)
	return nil
}

// Lookup is the value key has for a room the config names (an id or an
// alias, matched with same).
func (s *Settings) Lookup(name, key string, same func(name string, room id.RoomID) bool) (string, bool) {
	if s == nil {
		return "", false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for room, kv := range s.values {
		if v, ok := kv[key]; ok && same(name, room) {
			return v, true
		}
	}
	return "", false
}

// Rooms is base (rooms as the config names them) without those that set
// key to "off", with the rooms that set it to "on".
func (s *Settings) Rooms(base []string, key string, same func(name string, room id.RoomID) bool) []string {
	out := slices.DeleteFunc(slices.Clone(base), func(name string) bool {
		v, ok := s.Lookup(name, key, same)
		return ok && v == "off"
	})
	if s == nil {
		return out
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := len(out)
	for room, kv := range s.values {
		if kv[key] == "on" && !slices.ContainsFunc(out, func(name string) bool { return same(name, room) }) {
			out = append(out, room.String())
		}
	}
	slices.Sort(out[n:]) // map order is random; the rooms' order is not
	return out
}
