package bot

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// mapKV is a KV in memory.
type mapKV map[string]string

func (m mapKV) Get(_ context.Context, key string) (string, bool, error) {
	v, ok := m[key]
	return v, ok, nil
}

func (m mapKV) Put(_ context.Context, key, value string) error {
	m[key] = value
	return nil
}

// TestMovesFollowTheChain: a room upgraded twice resolves to the newest
// room, after a reload too; a loop in the chain (a bad tombstone) ends.
func TestMovesFollowTheChain(t *testing.T) {
	ctx := context.Background()
	kv := mapKV{}
	m := newMoves(kv, NewRoomNames(), zerolog.Nop())
	now := time.Now()
	m.record(ctx, "!a:x", "!b:x", now)
	m.record(ctx, "!b:x", "!c:x", now)
	if got := m.newest("!a:x"); got != "!c:x" {
		t.Errorf("newest of !a = %s, want !c", got)
	}
	if added, _ := m.record(ctx, "!a:x", "!b:x", now); added {
		t.Error("a move seen twice was followed twice")
	}
	again := newMoves(kv, NewRoomNames(), zerolog.Nop())
	if err := again.load(ctx); err != nil || again.newest("!a:x") != "!c:x" || !again.isReplacement("!b:x") {
		t.Errorf("after a reload: newest %s, %v", again.newest("!a:x"), err)
	}
	m.record(ctx, "!c:x", "!a:x", now) // a loop
	if got := m.newest("!a:x"); got == "" {
		t.Error("a loop in the chain gave no room")
	}
	if m.newest("!other:x") != "!other:x" {
		t.Error("a room that never moved did not resolve to itself")
	}
}
