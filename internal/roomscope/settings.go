package roomscope

import (
	"context"
	"slices"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/store"
)

// settingKind is the kind of the settings' rows in the store.
const settingKind = "setting"

// Defaults are the config's per-room settings: room (as the config names
// it) -> key -> value.
type Defaults map[string]map[string]string

// Settings are per-room values (thread lines on or off, a default
// repository, deploy announcements): what a room set in chat, else what
// the config says for it. Safe for concurrent use.
type Settings struct {
	defaults Defaults
	names    Names
	store    Store

	mu     sync.RWMutex
	values map[id.RoomID]map[string]string // set in chat
}

func (s *Settings) load(ctx context.Context) error {
	rows, err := s.store.RoomChoices(ctx, settingKind)
	if err != nil {
		return err
	}
	values := map[id.RoomID]map[string]string{}
	for _, r := range rows {
		room := id.RoomID(r.RoomID)
		if values[room] == nil {
			values[room] = map[string]string{}
		}
		values[room][r.Target] = r.Spec
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values = values
	return nil
}

// Get is room's value for key: set in chat, else the config's.
func (s *Settings) Get(room id.RoomID, key string) (string, bool) {
	s.mu.RLock()
	v, ok := s.values[room][key]
	s.mu.RUnlock()
	if ok {
		return v, true
	}
	for name, kv := range s.defaults {
		if v, ok := kv[key]; ok && s.names.Same(name, room) {
			return v, true
		}
	}
	return "", false
}

// Lookup is the value key has for a room the config names (an id or an
// alias): set in chat there, else the config's.
func (s *Settings) Lookup(name, key string) (string, bool) {
	if v, ok := s.chatValue(name, key); ok {
		return v, true
	}
	v, ok := s.defaults[name][key]
	return v, ok
}

func (s *Settings) chatValue(name, key string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for room, kv := range s.values {
		if v, ok := kv[key]; ok && s.names.Same(name, room) {
			return v, true
		}
	}
	return "", false
}

// Set records a room's value for key, said by whom, at.
func (s *Settings) Set(ctx context.Context, room id.RoomID, key, value string, by id.UserID, at time.Time) error {
	err := s.store.PutRoomChoice(ctx, store.RoomChoice{Kind: settingKind, RoomID: room.String(), Target: key, Spec: value, By: by.String(), At: at})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values[room] == nil {
		s.values[room] = map[string]string{}
	}
	s.values[room][key] = value
	return nil
}

// RoomsOn lists the rooms where key is "on": those the config names
// (base, in its order) unless they set it "off" in chat, then those that
// set it "on" in chat, by id.
func (s *Settings) RoomsOn(base []string, key string) []string {
	out := slices.DeleteFunc(slices.Clone(base), func(name string) bool {
		v, ok := s.chatValue(name, key)
		return ok && v == "off"
	})
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := len(out)
	for room, kv := range s.values {
		if kv[key] == "on" && !slices.ContainsFunc(out, func(name string) bool { return s.names.Same(name, room) }) {
			out = append(out, room.String())
		}
	}
	slices.Sort(out[n:]) // map order is random; the rooms' order is not
	return out
}
