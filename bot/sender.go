package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/store"
)

// Queue is what the sender needs of the store: a persistent FIFO whose
// entries are keyed for idempotency.
type Queue interface {
	Enqueue(ctx context.Context, msg store.Outgoing) (bool, error)
	Known(ctx context.Context, key string) (bool, error)
	Pending(ctx context.Context, limit int, skipRooms ...string) ([]store.Outgoing, error)
	PendingFor(ctx context.Context, room string, limit int) ([]store.Outgoing, error)
	PendingCount(ctx context.Context) (int, error)
	PendingIn(ctx context.Context, room string) (int, error)
	MarkSentIn(ctx context.Context, id int64, eventID, room string, at time.Time) error
	Anchor(ctx context.Context, key string) (eventID, room string, err error)
	Reanchor(ctx context.Context, key, eventID, room string, at time.Time) error
	Claim(ctx context.Context, id int64, reason string) error
	MarkFailed(ctx context.Context, id int64, reason string, at time.Time) error
	PruneDone(ctx context.Context, now time.Time, r store.Retention) (int64, error)
	EventID(ctx context.Context, key string) (string, error)
	MarkSentByTxn(ctx context.Context, txnID, eventID string, at time.Time) (bool, error)
}

// eventSender is what the sender asks of Matrix: sending, and reading
// recent messages to find out whether an interrupted send went through.
type eventSender interface {
	SendMessageEvent(ctx context.Context, roomID id.RoomID, eventType event.Type, contentJSON any, extra ...mautrix.ReqSendEvent) (*mautrix.RespSendEvent, error)
	Messages(ctx context.Context, roomID id.RoomID, from, to string, dir mautrix.Direction, filter *mautrix.FilterPart, limit int) (*mautrix.RespMessages, error)
}

// sender owns the outgoing queue: every message the bot posts goes through
// it, in order per room, and is retried until the homeserver takes it. It
// never drops a message because of a rate limit or a server error.
//
// Each room with messages waiting is served by a worker of its own, so a
// room whose sends fail or hang holds up no other: after a few failures in
// a row it is set aside (named in !status and ibbot_room_unreachable) and
// tried again later. At most maxRooms rooms are served at once, but a room
// with an answer waiting always gets a worker, and across rooms answers go
// before announcements (see gate).
type sender struct {
	client  eventSender
	queue   Queue
	metrics *Metrics
	log     zerolog.Logger
	now     func() time.Time
	backoff backoff.Policy
	// retention is how long sent messages and relations are kept.
	retention store.Retention
	// flushFor bounds how long a stop may spend sending what is queued.
	flushFor time.Duration
	wake     chan struct{}
	// synced is closed after the bot's first sync, which reports the
	// messages an interrupted run had in fact sent (MarkSentByTxn).
	synced <-chan struct{}
	// inFlight holds the transaction ids of requests under way: their
	// events can come back through sync before the response does, and
	// the sender records those itself.
	inFlight sync.Map
	// resolve turns a room as queued (an id or an alias) into its id;
	// join tries to join a room the homeserver says the bot is not in.
	resolve func(ctx context.Context, room string) (id.RoomID, error)
	join    func(ctx context.Context, room string) error
	// rooms are those whose messages wait because posting there fails.
	rooms *unreachable
	// lease is this replica's leadership: nothing is sent while it is not
	// confirmed.
	lease leaseOf
	// prepare readies a room before a send (an encrypted room's members);
	// nil: nothing to do.
	prepare func(ctx context.Context, room string) error
	// gate orders sends across the rooms' workers.
	gate *gate
	// access says why the bot may not send in a room it was made to leave
	// (or whose power levels bar it); nil: always may.
	access func(ctx context.Context, room id.RoomID) (string, bool)
	// active are the rooms a worker serves now.
	activeMu sync.Mutex
	active   map[string]bool
	// urgentSeq counts the answers queued: a room's worker that sees it
	// change reads its queue again, so an answer in its room goes next.
	urgentSeq atomic.Uint64
	// refused holds the keys of messages whose last attempt the homeserver
	// answered with an error: they were not posted, so the next attempt
	// need not look whether they were.
	refused sync.Map
}

// maxRooms bounds the rooms served at once (answers excepted).
const maxRooms = 4

// failuresBeforeAside is how many transient failures in a row set a room
// aside.
const failuresBeforeAside = 3

func newSender(client eventSender, q Queue, m *Metrics, log zerolog.Logger, now func() time.Time) *sender {
	s := &sender{
		client: client, queue: q, metrics: m, log: log, now: now,
		backoff: backoff.Policy{Min: 500 * time.Millisecond, Max: 2 * time.Minute},
		wake:    make(chan struct{}, 1),
		resolve: func(_ context.Context, room string) (id.RoomID, error) { return id.RoomID(room), nil },
		rooms:   newUnreachable(log, m.RoomUnreachable),
		gate:    newGate(now),
		active:  map[string]bool{},
	}
	s.rooms.count = func(room string) (int, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := q.PendingIn(ctx, room)
		return n, err == nil
	}
	return s
}

// enqueue stores msg for sending and wakes the sender. A key that was
// enqueued before is silently ignored.
func (s *sender) enqueue(ctx context.Context, msg store.Outgoing) error {
	if msg.CreatedAt.IsZero() {
		msg.CreatedAt = s.now()
	}
	msg.TxnID = TxnID(msg.Key)
	added, err := s.queue.Enqueue(ctx, msg)
	if err != nil {
		return err
	}
	if added {
		s.metrics.QueueDepth.Inc()
		if msg.Urgent {
			s.urgentSeq.Add(1)
		}
		s.poke()
	}
	return nil
}

func (s *sender) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run sends until ctx ends. Once drain is closed it returns as soon as the
// queue is empty (rooms set aside excepted): that is the flush on
// shutdown. It hands each room with messages waiting to a worker.
func (s *sender) run(ctx context.Context, drain <-chan struct{}) error {
	s.refreshDepth(ctx)
	var workers sync.WaitGroup
	defer workers.Wait()
	var lastPrune time.Time
	for {
		if s.now().Sub(lastPrune) > 24*time.Hour {
			lastPrune = s.now()
			s.prune(ctx, lastPrune)
		}
		skip, nextTry := s.rooms.skipped(s.now())
		busy := s.activeRooms()
		batch, err := s.queue.Pending(ctx, 64, append(skip, busy...)...)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error().Err(err).Msg("Reading the outgoing queue failed")
			if !sleepCtx(ctx, time.Second) {
				return nil
			}
			continue
		}
		for _, msg := range batch {
			if s.startWorker(ctx, &workers, msg.RoomID, msg.Urgent, len(busy)) {
				busy = append(busy, msg.RoomID)
			}
		}
		if len(batch) == 0 && len(busy) == 0 && closed(drain) {
			return nil // messages for rooms set aside stay queued for the next start
		}
		var quiet <-chan struct{} // a drain asked for while nothing is under way
		if len(busy) == 0 {
			quiet = drain
		}
		if !s.idle(ctx, nextTry, quiet) {
			return nil
		}
	}
}

// startWorker serves room in a goroutine of its own unless one already
// does, or maxRooms are served and the room's first message is no answer.
func (s *sender) startWorker(ctx context.Context, wg *sync.WaitGroup, room string, urgent bool, serving int) bool {
	s.activeMu.Lock()
	defer s.activeMu.Unlock()
	if s.active[room] || (serving >= maxRooms && !urgent) {
		return false
	}
	s.active[room] = true
	wg.Go(func() {
		defer s.poke() // the dispatcher looks again: more may wait
		defer func() {
			s.activeMu.Lock()
			delete(s.active, room)
			s.activeMu.Unlock()
		}()
		s.serveRoom(ctx, room)
	})
	return true
}

func (s *sender) activeRooms() []string {
	s.activeMu.Lock()
	defer s.activeMu.Unlock()
	out := make([]string, 0, len(s.active))
	for room := range s.active {
		out = append(out, room)
	}
	return out
}

// serveRoom sends room's messages, in order, until none wait, the room is
// set aside, or ctx ends.
func (s *sender) serveRoom(ctx context.Context, room string) {
	for ctx.Err() == nil {
		msgs, err := s.queue.PendingFor(ctx, room, 16)
		if err != nil || len(msgs) == 0 {
			if err != nil && ctx.Err() == nil {
				s.log.Error().Err(err).Str("room_id", room).Msg("Reading the room's outgoing queue failed")
			}
			return
		}
		answers := s.urgentSeq.Load()
		for _, msg := range msgs {
			if !s.deliver(ctx, msg) || s.rooms.waiting(room, s.now()) {
				return
			}
			if s.urgentSeq.Load() != answers {
				break // an answer was queued: it may be for this room, and goes first
			}
		}
	}
}

func (s *sender) prune(ctx context.Context, now time.Time) {
	if n, err := s.queue.PruneDone(ctx, now, s.retention); err != nil {
		s.log.Warn().Err(err).Msg("Pruning the outbox failed")
	} else if n > 0 {
		s.log.Info().Int64("deleted", n).Msg("Pruned old sent messages from the outbox")
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// idle waits for new messages or a worker's end, for a room set aside to
// be due, for drain, or an hour (a chance to prune). It returns false
// when ctx ended.
func (s *sender) idle(ctx context.Context, nextTry time.Time, drain <-chan struct{}) bool {
	wait := time.Hour
	if !nextTry.IsZero() {
		wait = max(nextTry.Sub(s.now()), 10*time.Millisecond)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-drain:
	case <-s.wake:
	case <-timer.C:
	}
	return true
}

func (s *sender) refreshDepth(ctx context.Context) {
	if n, err := s.queue.PendingCount(ctx); err == nil {
		s.metrics.QueueDepth.Set(float64(n))
	}
}

// refusedSuffix marks the short answer sent when an answer was refused.
const refusedSuffix = ":refused"

// sendTimeout bounds one request to the homeserver.
const sendTimeout = 30 * time.Second

// TxnID derives the Matrix transaction id from a queue key, so every
// attempt to send the same message uses the same id and the homeserver
// posts it at most once.
func TxnID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "ibbot." + hex.EncodeToString(sum[:12])
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
