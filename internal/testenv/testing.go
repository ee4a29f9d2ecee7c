package testenv

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// NewDendrite starts a homeserver for the test and stops it at cleanup.
// The binaries are built on first use (about two minutes on two cores) and
// cached after that.
//
// With -short (the quick loop) the test is skipped: no homeserver is built
// or started.
func NewDendrite(t testing.TB) *Dendrite {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Matrix homeserver (Dendrite); skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := BuildDendrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := StartDendrite(ctx, bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dendrite log tail:\n%s", d.LogTail(30))
		}
		d.Stop()
	})
	return d
}

// NewUser registers localpart, starts its sync and stops it at cleanup.
func (d *Dendrite) NewUser(t testing.TB, localpart string) *User {
	t.Helper()
	ctx := context.Background()
	u, err := d.Register(ctx, localpart, "pw-"+localpart+"-secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := u.StartSync(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.StopSync)
	return u
}

// MustSay sends text to room or fails the test.
func (u *User) MustSay(t testing.TB, room id.RoomID, text string) id.EventID {
	t.Helper()
	evt, err := u.Say(context.Background(), room, text)
	if err != nil {
		t.Fatalf("%s says %q: %v", u.UserID, text, err)
	}
	return evt
}

// MustWait waits up to limit for a matching event or fails the test.
func (u *User) MustWait(t testing.TB, limit time.Duration, what string, match func(*event.Event) bool) *event.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	e, err := u.WaitFor(ctx, match)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return e
}

// NewPostgres starts a PostgreSQL server for the test and stops it at
// cleanup. Where PostgreSQL is not installed a developer's run skips the
// test, but CI (CI=true) fails it: .ci/run installs it.
func NewPostgres(t testing.TB) *Postgres {
	t.Helper()
	p, err := StartPostgres()
	if errors.Is(err, ErrNoPostgres) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// NewPostgresDB returns the URL of a new, empty database on p.
func (p *Postgres) EmptyDB(t testing.TB) string {
	t.Helper()
	dsn, err := p.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}
