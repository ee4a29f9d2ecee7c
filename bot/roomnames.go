package bot

import (
	"maps"
	"strings"
	"sync"

	"maunium.net/go/mautrix/id"
)

// RoomNames knows what the room names of the configuration (ids and
// aliases) mean now: the room an alias pointed to when the bot resolved
// it, and for a room that was upgraded, its newest replacement. The bot
// fills it as it resolves aliases, joins rooms and follows upgrades;
// whatever matches a configured room name against a room id (which rooms
// get what, per-room settings) asks it. Make one with NewRoomNames before
// the bot and everything that needs it, and give it to New.
type RoomNames struct {
	mu      sync.RWMutex
	aliases map[string]id.RoomID    // "#alias:server" -> the room it named
	next    map[id.RoomID]id.RoomID // a room that moved -> its replacement
}

// NewRoomNames starts knowing no alias and no move.
func NewRoomNames() *RoomNames {
	return &RoomNames{aliases: map[string]id.RoomID{}, next: map[id.RoomID]id.RoomID{}}
}

// Same reports whether the configured name (an id or an alias) is room:
// the room it names, or that room's newest replacement. An alias the bot
// has not resolved yet is no room (the bot resolves every configured name
// when it starts, before anything is announced).
func (n *RoomNames) Same(name string, room id.RoomID) bool {
	if id.RoomID(name) == room {
		return true
	}
	now, ok := n.Room(name)
	return ok && now == room
}

// Room is the room name means now; false for an alias not resolved yet.
func (n *RoomNames) Room(name string) (id.RoomID, bool) {
	room, ok := n.named(name)
	if !ok {
		return "", false
	}
	return n.newest(room), true
}

// named is the room a name gives before following moves.
func (n *RoomNames) named(name string) (id.RoomID, bool) {
	if !strings.HasPrefix(name, "#") {
		return id.RoomID(name), true
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	room, ok := n.aliases[name]
	return room, ok
}

func (n *RoomNames) learnAlias(alias string, room id.RoomID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.aliases[alias] = room
}

// newest follows room's chain of upgrades to its latest replacement (room
// itself if it never moved). A loop in the chain stops at the room seen
// twice.
func (n *RoomNames) newest(room id.RoomID) id.RoomID {
	n.mu.RLock()
	defer n.mu.RUnlock()
	seen := map[id.RoomID]bool{}
	for !seen[room] {
		seen[room] = true
		next, ok := n.next[room]
		if !ok {
			break
		}
		room = next
	}
	return room
}

// moved records old -> replacement; false when it was known already.
func (n *RoomNames) moved(old, replacement id.RoomID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.next[old] == replacement {
		return false
	}
	n.next[old] = replacement
	return true
}

// moves is a copy of every move known.
func (n *RoomNames) moves() map[id.RoomID]id.RoomID {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return maps.Clone(n.next)
}

// loadMoves adds moves kept by earlier runs.
func (n *RoomNames) loadMoves(m map[id.RoomID]id.RoomID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	maps.Copy(n.next, m)
}
