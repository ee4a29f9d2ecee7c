package store

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReopenKeepsStateAndMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Put(ctx, "k", "v1")
	s.Put(ctx, "k", "v2")
	added, _ := s.Enqueue(ctx, Outgoing{Key: "a", RoomID: "!r", EventType: "m.room.message", Content: []byte("{}"), CreatedAt: time.Now()})
	again, _ := s.Enqueue(ctx, Outgoing{Key: "a", RoomID: "!r", EventType: "m.room.message", Content: []byte("{}"), CreatedAt: time.Now()})
	if !added || again {
		t.Fatalf("enqueue added=%v, duplicate added=%v", added, again)
	}
	s.Close()

	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s.Close()
	if v, ok, _ := s.Get(ctx, "k"); !ok || v != "v2" {
		t.Errorf("kv after reopen = %q %v", v, ok)
	}
	if n, _ := s.PendingCount(ctx); n != 1 {
		t.Errorf("pending after reopen = %d, want 1", n)
	}
	var versions int
	s.db.QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&versions)
	if steps, _ := migrationSteps(sqlite); versions != len(steps) {
		t.Errorf("%d migrations recorded, want %d", versions, len(steps))
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.db.Exec(`INSERT INTO schema_version (version) VALUES (999)`)
	s.Close()
	if _, err := OpenSQLite(ctx, path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("opening a newer schema: %v", err)
	}
}

// TestSQLiteFilesArePrivate: the database holds the access token, so the
// file and SQLite's -wal and -shm files beside it are readable by the bot's
// user only, from the moment they exist.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "ibbot.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(context.Background(), "k", "v"); err != nil { // a write creates the WAL
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(f), mode)
		}
	}
}

// TestOneProcessPerSQLiteFile: a second open of the same file (another
// ibbot) is refused with a clear message, and allowed once the first
// closed it.
func TestOneProcessPerSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ibbot.db")
	first, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSQLite(context.Background(), path); err == nil || !strings.Contains(err.Error(), "another ibbot is running on") {
		t.Fatalf("a second ibbot on the same file: %v", err)
	}
	first.Close()
	again, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("reopening after the first closed: %v", err)
	}
	again.Close()
}

// TestCommitsSurviveAPowerCut: the SQLite store syncs its log at every
// commit (synchronous=FULL, 2), so what ibbot has answered for (a
// delivery's 202, a queued announcement) is on disk, not only in the
// page cache a power cut empties.
func TestCommitsSurviveAPowerCut(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var level int
	if err := s.db.QueryRow(`PRAGMA synchronous`).Scan(&level); err != nil || level != 2 {
		t.Errorf("synchronous = %d (%v), want 2 (FULL)", level, err)
	}
}

// BenchmarkCommit measures recording a webhook delivery (one commit) with
// SQLite's synchronous=FULL, which ibbot uses, against NORMAL, in one run:
// go test ./internal/store -run '^$' -bench Commit
func BenchmarkCommit(b *testing.B) {
	payload := []byte(strings.Repeat(`{"action":"opened"}`, 1500)) // ~28 KB, a real delivery's size
	for _, mode := range []string{syncNormal, syncFull} {
		b.Run(mode, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench.db")
			if err := makePrivate(path); err != nil {
				b.Fatal(err)
			}
			lock, err := lockFile(path)
			if err != nil {
				b.Fatal(err)
			}
			s, err := openSQLite(context.Background(), path, lock, mode)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			i := 0
			for b.Loop() {
				i++
				if _, err := s.SaveDelivery(context.Background(), Delivery{ID: strconv.Itoa(i), Event: "issues", Payload: payload}, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
