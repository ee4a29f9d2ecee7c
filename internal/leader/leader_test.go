package leader_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/leader"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

var (
	pg    *testenv.Postgres
	pgErr error
)

func TestMain(m *testing.M) {
	pg, pgErr = testenv.StartPostgres()
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	os.Exit(code)
}

// Short times keep the tests quick; production uses 1s and 5s.
const (
	heartbeat = 100 * time.Millisecond
	timeout   = time.Second
)

// replica is one process's view: its store and its elector.
type replica struct {
	name    string
	store   *store.DB
	elector *leader.Elector
	logs    *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func database(t *testing.T) string {
	t.Helper()
	if pgErr != nil {
		if errors.Is(pgErr, testenv.ErrNoPostgres) && os.Getenv("CI") != "true" {
			t.Skip(pgErr)
		}
		t.Fatal(pgErr)
	}
	return pg.EmptyDB(t)
}

func newReplica(t *testing.T, dsn, name string) *replica {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &lockedBuffer{}
	return &replica{name: name, store: st, logs: logs, elector: leader.New(leader.Options{
		DSN: dsn, Heartbeat: heartbeat, Timeout: timeout, Identity: name, Fence: st.Fence,
		Log: zerolog.New(logs),
	})}
}

// campaign runs Campaign in the background; the term arrives on the
// channel once this replica leads.
func (r *replica) campaign(t *testing.T) <-chan *leader.Term {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	terms := make(chan *leader.Term, 1)
	go func() {
		term, err := r.elector.Campaign(ctx)
		if err == nil {
			terms <- term
		}
	}()
	t.Cleanup(cancel)
	return terms
}

func await(t *testing.T, terms <-chan *leader.Term, limit time.Duration, what string) *leader.Term {
	t.Helper()
	select {
	case term := <-terms:
		t.Cleanup(term.Release)
		return term
	case <-time.After(limit):
		t.Fatalf("%s did not become leader within %s", what, limit)
		return nil
	}
}

func mustNotLead(t *testing.T, terms <-chan *leader.Term, d time.Duration, what string) {
	t.Helper()
	select {
	case <-terms:
		t.Fatalf("%s became leader while another held the lock", what)
	case <-time.After(d):
	}
}

// claimOne queues a message in the shared outbox and claims it as r.
func claimOne(t *testing.T, r *replica, key string) error {
	t.Helper()
	ctx := context.Background()
	if _, err := r.store.Enqueue(ctx, store.Outgoing{Key: key, RoomID: "!r", EventType: "m.room.message", Content: []byte("{}"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	msgs, err := r.store.Pending(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Key == key {
			return r.store.Claim(ctx, m.ID, "sending")
		}
	}
	t.Fatalf("%s is not pending", key)
	return nil
}

func TestOneLeaderAndAHandOverOnRelease(t *testing.T) {
	dsn := database(t)
	a, b := newReplica(t, dsn, "a"), newReplica(t, dsn, "b")
	termA := await(t, a.campaign(t), 5*time.Second, "a")
	bTerms := b.campaign(t)
	mustNotLead(t, bTerms, 5*heartbeat, "b")
	if !termA.Held() || termA.Epoch != 1 {
		t.Fatalf("a's term: held %v, epoch %d; want held, epoch 1", termA.Held(), termA.Epoch)
	}
	if !b.elector.Reachable() {
		t.Error("the standby does not report the database reachable (it can take webhooks)")
	}
	if err := claimOne(t, a, "by-a"); err != nil {
		t.Errorf("the leader's claim failed: %v", err)
	}

	start := time.Now()
	termA.Release()
	termB := await(t, bTerms, 5*time.Second, "b after a released")
	t.Logf("hand-over after a release took %s", time.Since(start))
	if termB.Epoch != 2 {
		t.Errorf("b leads epoch %d, want 2", termB.Epoch)
	}
	if err := claimOne(t, a, "by-a-after"); !errors.Is(err, store.ErrFenced) {
		t.Errorf("a's claim after b took over: %v, want ErrFenced", err)
	}
	if err := claimOne(t, b, "by-b"); err != nil {
		t.Errorf("the new leader's claim failed: %v", err)
	}
	for _, want := range []string{`"previous_leader":"a"`, "Leadership gained"} {
		if !strings.Contains(b.logs.String(), want) {
			t.Errorf("b's log lacks %s:\n%s", want, b.logs.String())
		}
	}
	if !strings.Contains(b.logs.String(), "Standing by") {
		t.Errorf("b never said it stood by:\n%s", b.logs.String())
	}
}

// A leader whose session the server ends (what a SIGKILL or a lost node
// comes to) loses its term at its next heartbeat; the standby leads.
func TestSessionEndedLosesTheTerm(t *testing.T) {
	dsn := database(t)
	a, b := newReplica(t, dsn, "a"), newReplica(t, dsn, "b")
	termA := await(t, a.campaign(t), 5*time.Second, "a")
	bTerms := b.campaign(t)
	ctx, cancel := termA.Context(context.Background())
	defer cancel()

	admin, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var n int
	if err := admin.QueryRow(context.Background(),
		`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'ibbot leader election (a)'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminating a's session: %d sessions, %v", n, err)
	}
	select {
	case <-termA.Lost():
	case <-time.After(5 * heartbeat):
		t.Fatal("a did not notice its session was gone")
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("the term's context did not end with the loss")
	}
	if termA.Held() || !errors.Is(context.Cause(ctx), leader.ErrLost) {
		t.Errorf("after the loss: held %v, context cause %v", termA.Held(), context.Cause(ctx))
	}
	await(t, bTerms, 2*time.Second, "b")
	if !strings.Contains(a.logs.String(), "Leadership lost") {
		t.Errorf("a's log does not say it lost leadership:\n%s", a.logs.String())
	}
}

// A frozen leader keeps its connection open but says nothing: the server
// ends its idle session after the timeout, the standby leads, and the
// frozen one, when it wakes, neither trusts itself nor gets past the fence.
func TestFrozenLeaderIsFencedOff(t *testing.T) {
	dsn := database(t)
	a, b := newReplica(t, dsn, "a"), newReplica(t, dsn, "b")
	termA := await(t, a.campaign(t), 5*time.Second, "a")
	bTerms := b.campaign(t)
	mustNotLead(t, bTerms, 3*heartbeat, "b")

	leader.Freeze(termA) // the heartbeat stops; the connection stays open
	start := time.Now()
	termB := await(t, bTerms, timeout+2*time.Second, "b")
	took := time.Since(start)
	t.Logf("a frozen leader was replaced after %s (timeout %s)", took, timeout)
	if took < timeout-2*heartbeat {
		t.Errorf("b took over after %s, before the server could have freed a's lock", took)
	}
	if took > timeout+heartbeat {
		t.Errorf("b took over after %s, later than the timeout (%s)", took, timeout)
	}
	if termA.Held() {
		t.Error("the frozen leader still trusts its leadership after the server freed it")
	}
	if err := claimOne(t, a, "late"); !errors.Is(err, store.ErrFenced) {
		t.Errorf("the frozen leader's claim: %v, want ErrFenced", err)
	}
	if termB.Epoch != termA.Epoch+1 {
		t.Errorf("epochs %d then %d", termA.Epoch, termB.Epoch)
	}
}
