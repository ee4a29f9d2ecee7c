// Package roomscope decides, for every source, which rooms get what. Three
// layers lie over each other here and nowhere else: the operator's config
// (rules naming rooms and targets, and per-room settings), what a room
// chose in chat (subscriptions of its own, mutes of what the config sends
// it, settings of its own), kept in the store so a restart or a failover
// keeps them. A source declares the targets it delivers (repositories,
// lists, …) and the filter a rule carries; routing, listing, muting and
// settings come from here, so a new source writes no routing of its own.
//
// Rooms appear under the names the config gives them (ids or aliases) and
// by id when only chat named them; Names says which name is which room.
package roomscope

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/store"
)

// Names says whether a room named in the config (an id or an alias) is a
// given room. The bot, which owns the room list, knows (bot.RoomNames).
type Names interface {
	Same(name string, room id.RoomID) bool
}

// Store keeps the rooms' choices.
type Store interface {
	RoomChoices(ctx context.Context, kind string) ([]store.RoomChoice, error)
	PutRoomChoice(ctx context.Context, r store.RoomChoice) error
	DeleteRoomChoice(ctx context.Context, kind, room, target string) error
}

// Rule is one of the operator's: these rooms get these targets, filtered.
type Rule[F any] struct {
	Rooms   []string // as the config names them: ids or aliases
	Targets []string // names or globs (path.Match), matched ignoring case
	Filter  F
}

// Choice is what one room chose in chat for one target: a subscription
// of its own (with its filter), or a mute of what the config sends.
type Choice[F any] struct {
	Room   id.RoomID
	Target string // lowercase
	Filter F      // unused for a mute
	By     id.UserID
	At     time.Time
}

// Source declares a kind of thing rooms receive.
type Source[F any] struct {
	// Kind names the source's rows in the store: Kind for the rooms' own
	// subscriptions, Kind+"-mute" for their mutes.
	Kind string
	// Config is the operator's rules.
	Config []Rule[F]
}

// Match is one room a target's item may go to, and the filter that
// brings it there.
type Match[F any] struct {
	Room   string // as the config names it, or the room id
	Filter F
	Own    bool // the room's own subscription, not the config's
}

// View is what one room receives of a source.
type View[F any] struct {
	FromConfig []Rule[F]   // the config's rules naming the room
	Mutes      []Choice[F] // the config's targets the room muted
	Own        []Choice[F] // the room's own subscriptions, oldest first
}

// Scope is one source's routing. Safe for concurrent use.
type Scope[F any] struct {
	src   Source[F]
	names Names
	store Store

	mu    sync.RWMutex
	own   []Choice[F]
	mutes []Choice[F]
}

func (s *Scope[F]) muteKind() string { return s.src.Kind + "-mute" }

// load reads the rooms' choices from the store.
func (s *Scope[F]) load(ctx context.Context) error {
	rows, err := s.store.RoomChoices(ctx, s.src.Kind)
	if err != nil {
		return err
	}
	own := make([]Choice[F], 0, len(rows))
	for _, row := range rows {
		c := choiceOf[F](row)
		if err := json.Unmarshal([]byte(row.Spec), &c.Filter); err != nil {
			return fmt.Errorf("room %s's subscription of %s does not parse: %w", row.RoomID, row.Target, err)
		}
		own = append(own, c)
	}
	rows, err = s.store.RoomChoices(ctx, s.muteKind())
	if err != nil {
		return err
	}
	mutes := make([]Choice[F], 0, len(rows))
	for _, row := range rows {
		mutes = append(mutes, choiceOf[F](row))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.own, s.mutes = own, mutes
	return nil
}

func choiceOf[F any](row store.RoomChoice) Choice[F] {
	return Choice[F]{Room: id.RoomID(row.RoomID), Target: row.Target, By: id.UserID(row.By), At: row.At}
}

// Subscribe records a room's own subscription of c.Target, replacing the
// one it had. A mute of the same target stays.
func (s *Scope[F]) Subscribe(ctx context.Context, c Choice[F]) error {
	c.Target = strings.ToLower(c.Target)
	spec, err := json.Marshal(c.Filter)
	if err != nil {
		return err
	}
	row := store.RoomChoice{Kind: s.src.Kind, RoomID: c.Room.String(), Target: c.Target, Spec: string(spec), By: c.By.String(), At: c.At}
	if err := s.store.PutRoomChoice(ctx, row); err != nil {
		return fmt.Errorf("storing the subscription: %w", err)
	}
	s.replace(&s.own, c.Room, c.Target, &c)
	return nil
}

// Unsubscribe forgets a room's own subscription of target.
func (s *Scope[F]) Unsubscribe(ctx context.Context, room id.RoomID, target string) error {
	target = strings.ToLower(target)
	if err := s.store.DeleteRoomChoice(ctx, s.src.Kind, room.String(), target); err != nil {
		return fmt.Errorf("removing the subscription: %w", err)
	}
	s.replace(&s.own, room, target, nil)
	return nil
}

// Mute records a room's mute of what the config sends it of c.Target.
// The room's own subscription stays.
func (s *Scope[F]) Mute(ctx context.Context, c Choice[F]) error {
	c.Target = strings.ToLower(c.Target)
	var zero F
	c.Filter = zero
	row := store.RoomChoice{Kind: s.muteKind(), RoomID: c.Room.String(), Target: c.Target, Spec: "{}", Muted: true, By: c.By.String(), At: c.At}
	if err := s.store.PutRoomChoice(ctx, row); err != nil {
		return fmt.Errorf("storing the mute: %w", err)
	}
	s.replace(&s.mutes, c.Room, c.Target, &c)
	return nil
}

// Unmute lifts a room's mute of target.
func (s *Scope[F]) Unmute(ctx context.Context, room id.RoomID, target string) error {
	target = strings.ToLower(target)
	if err := s.store.DeleteRoomChoice(ctx, s.muteKind(), room.String(), target); err != nil {
		return fmt.Errorf("removing the mute: %w", err)
	}
	s.replace(&s.mutes, room, target, nil)
	return nil
}

func (s *Scope[F]) replace(list *[]Choice[F], room id.RoomID, target string, c *Choice[F]) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*list = slices.DeleteFunc(*list, func(x Choice[F]) bool { return x.Room == room && x.Target == target })
	if c != nil {
		*list = append(*list, *c)
	}
}

// Matches lists every room an item of target may go to, with the filter
// that brings it there: the config's rules for target in every room they
// name that did not mute it, then the rooms' own subscriptions of target.
// A room with several matches appears once per match, always under the
// same name: the config's, when a config rule for target names it.
func (s *Scope[F]) Matches(target string) []Match[F] {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Match[F]
	for _, r := range s.src.Config {
		if !AnyGlob(r.Targets, target) {
			continue
		}
		for _, room := range r.Rooms {
			if !s.mutedLocked(room, target) {
				out = append(out, Match[F]{Room: room, Filter: r.Filter})
			}
		}
	}
	for _, c := range s.own {
		if strings.EqualFold(c.Target, target) {
			out = append(out, Match[F]{Room: s.nameIn(out, c.Room), Filter: c.Filter, Own: true})
		}
	}
	return out
}

// RoomsFor lists the rooms an item of target goes to, each once, in the
// order of Matches: those whose filter takes it (takes nil: every match).
func (s *Scope[F]) RoomsFor(target string, takes func(F) bool) []string {
	var out []string
	for _, m := range s.Matches(target) {
		if (takes == nil || takes(m.Filter)) && !slices.Contains(out, m.Room) {
			out = append(out, m.Room)
		}
	}
	return out
}

// nameIn is how the matches so far name room, or its id.
func (s *Scope[F]) nameIn(matches []Match[F], room id.RoomID) string {
	for _, m := range matches {
		if !m.Own && s.names.Same(m.Room, room) {
			return m.Room
		}
	}
	return room.String()
}

// mutedLocked reports whether the room the config names muted target.
func (s *Scope[F]) mutedLocked(name, target string) bool {
	return slices.ContainsFunc(s.mutes, func(c Choice[F]) bool {
		return strings.EqualFold(c.Target, target) && s.names.Same(name, c.Room)
	})
}

// Targets lists the concrete targets (no globs), lowercase, that the
// config's rules and the rooms' own subscriptions name and keep accepts
// the filter of (nil: all): what a poller reads.
func (s *Scope[F]) Targets(keep func(F) bool) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	add := func(target string, f F) {
		target = strings.ToLower(target)
		if (keep == nil || keep(f)) && !strings.ContainsAny(target, "*?[") && !slices.Contains(out, target) {
			out = append(out, target)
		}
	}
	for _, r := range s.src.Config {
		for _, t := range r.Targets {
			add(t, r.Filter)
		}
	}
	for _, c := range s.own {
		add(c.Target, c.Filter)
	}
	return out
}

// ConfigTargets lists the targets (names or globs) of the config's rules.
func (s *Scope[F]) ConfigTargets() []string {
	var out []string
	for _, r := range s.src.Config {
		for _, t := range r.Targets {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// Known reports whether some rule or room's own subscription covers
// target (whatever its filter).
func (s *Scope[F]) Known(target string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.ContainsFunc(s.src.Config, func(r Rule[F]) bool { return AnyGlob(r.Targets, target) }) ||
		slices.ContainsFunc(s.own, func(c Choice[F]) bool { return strings.EqualFold(c.Target, target) })
}

// Rooms lists every room any rule or subscription sends to, as the config
// names them, then by id.
func (s *Scope[F]) Rooms() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, r := range s.src.Config {
		for _, room := range r.Rooms {
			if !slices.Contains(out, room) {
				out = append(out, room)
			}
		}
	}
	for _, c := range s.own {
		if !slices.ContainsFunc(out, func(name string) bool { return s.names.Same(name, c.Room) }) {
			out = append(out, c.Room.String())
		}
	}
	return out
}

// InRoom is what one room receives: the config's rules naming it, the
// targets it muted, and its own subscriptions.
func (s *Scope[F]) InRoom(room id.RoomID) View[F] {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var v View[F]
	for _, r := range s.src.Config {
		if slices.ContainsFunc(r.Rooms, func(name string) bool { return s.names.Same(name, room) }) {
			v.FromConfig = append(v.FromConfig, r)
		}
	}
	for _, c := range s.mutes {
		if c.Room == room {
			v.Mutes = append(v.Mutes, c)
		}
	}
	for _, c := range s.own {
		if c.Room == room {
			v.Own = append(v.Own, c)
		}
	}
	return v
}

// ConfigSends reports whether the config's rules send the room target
// (muted there or not).
func (v View[F]) ConfigSends(target string) bool {
	return slices.ContainsFunc(v.FromConfig, func(r Rule[F]) bool { return AnyGlob(r.Targets, target) })
}

// Muted reports whether the room muted target.
func (v View[F]) Muted(target string) bool {
	return slices.ContainsFunc(v.Mutes, func(c Choice[F]) bool { return strings.EqualFold(c.Target, target) })
}

// OwnOf is the room's own subscription of target, if it has one.
func (v View[F]) OwnOf(target string) (Choice[F], bool) {
	i := slices.IndexFunc(v.Own, func(c Choice[F]) bool { return strings.EqualFold(c.Target, target) })
	if i < 0 {
		return Choice[F]{}, false
	}
	return v.Own[i], true
}

// Follows reports whether the room receives target: its own subscription,
// or the config's unless muted.
func (v View[F]) Follows(target string) bool {
	_, own := v.OwnOf(target)
	return own || (v.ConfigSends(target) && !v.Muted(target))
}

// Followed lists the targets the room receives, lowercase: the config's
// (globs as written) unless muted there, then its own subscriptions.
func (v View[F]) Followed() []string {
	var out []string
	for _, r := range v.FromConfig {
		for _, t := range r.Targets {
			if t = strings.ToLower(t); !v.Muted(t) && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	for _, c := range v.Own {
		if t := strings.ToLower(c.Target); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// AnyGlob reports whether name matches one of patterns (path.Match),
// ignoring case.
func AnyGlob(patterns []string, name string) bool {
	name = strings.ToLower(name)
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), name); ok {
			return true
		}
	}
	return false
}

// NamesFunc is a Names from a function.
type NamesFunc func(name string, room id.RoomID) bool

// Same calls f.
func (f NamesFunc) Same(name string, room id.RoomID) bool { return f(name, room) }

// NameOf is the name this source's config gives room (an alias or the
// id, as the config writes it), so a key made with it matches those the
// source makes; the id when the config does not name the room.
func (s *Scope[F]) NameOf(room id.RoomID) string {
	for _, rule := range s.src.Config {
		for _, name := range rule.Rooms {
			if s.names.Same(name, room) {
				return name
			}
		}
	}
	return room.String()
}
