// Package bot is the Matrix side of ibbot: it owns the client, the session,
// the sync loop, the command router and the outgoing queue. Handlers never
// see any of it; they return values that the bot turns into events.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
)

// Store is everything the bot keeps between runs.
type Store interface {
	KV
	Queue
}

// Options are what New needs. Zero values are filled in where noted.
type Options struct {
	Config          config.Matrix
	Store           Store
	Commands        *Table
	Metrics         *Metrics
	Log             zerolog.Logger
	ShutdownTimeout time.Duration    // how long Run may flush the queue on stop; default 10s
	Now             func() time.Time // default time.Now
	HTTPClient      *http.Client     // default: mautrix's
	Welcome         *WelcomeOptions  // nil: no greetings
	Listeners       []Listener       // react to ordinary messages
	Observers       []Observer       // see every message, edit and redaction
	// Retention is how long sent messages and relations are kept; default
	// 7 days and forever.
	Retention store.Retention
	// JoinRooms are joined at start: every room the configuration names
	// (config.AllRooms); default Config.Rooms.
	JoinRooms []string
	// RoomNames is where the bot keeps what the configuration's room
	// names mean now, for the parts that match them against room ids;
	// nil: the bot keeps its own.
	RoomNames *RoomNames
	// Lease is this replica's leadership among several on one database;
	// nil: the bot runs alone.
	Lease Lease
	// Encryption configures end-to-end encryption; Pool is where its
	// stores keep their tables (required when Encryption.Enabled).
	Encryption config.Encryption
	Pool       SharedPool
	// KeyWait, when set, bounds each wait for a missing room key (tests
	// shorten it); default 3 s, then 20 s after asking for the key.
	KeyWait time.Duration
	// RoomMoved is told when a room the bot is in was upgraded, so what
	// the room chose in chat can move to its replacement; may be nil.
	RoomMoved func(ctx context.Context, old, replacement id.RoomID)
}

// Bot is a running Matrix bot.
type Bot struct {
	cfg     config.Matrix
	client  *mautrix.Client
	store   Store
	router  *router
	sender  *sender
	metrics *Metrics
	log     zerolog.Logger
	now     func() time.Time
	lease   leaseOf

	readyCh    chan struct{} // closed after the first sync
	firstStart time.Time     // when this bot (this database) first ran

	rooms      *rooms
	invites    *invites
	images     *images
	encrypted  *encryptionNotes
	encryption *encryption
	directs    *directs
	docs       *commandDocs
	welcomer   *welcomer // nil when greetings are off
	moves      *moves
	access     *access
	roomMoved  func(ctx context.Context, old, replacement id.RoomID)
	observers  []Observer
}

// New builds a bot; nothing touches the network until Run.
func New(opts Options) (*Bot, error) {
	client, err := mautrix.NewClient(opts.Config.Homeserver, opts.Config.UserID, "")
	if err != nil {
		return nil, fmt.Errorf("matrix.homeserver: %w", err)
	}
	if opts.HTTPClient != nil {
		client.Client = opts.HTTPClient
	}
	client.Log = opts.Log.With().Str("component", "mautrix").Logger()
	client.DefaultHTTPRetries = 0 // the bot retries itself: see sender and syncLoop
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	b := &Bot{
		cfg: opts.Config, client: client, store: opts.Store,
		metrics: opts.Metrics, log: opts.Log, now: opts.Now, lease: leaseOf{opts.Lease},
		readyCh: make(chan struct{}),
	}
	if opts.RoomNames == nil {
		opts.RoomNames = NewRoomNames()
	}
	b.moves = newMoves(opts.Store, opts.RoomNames, opts.Log)
	b.access = newAccess(opts.Config.UserID, opts.Store, opts.Metrics.RoomBarred, opts.Log)
	b.roomMoved = opts.RoomMoved
	b.observers = opts.Observers
	b.rooms = &rooms{resolve: client.ResolveAlias, joinFn: client.JoinRoom, toJoin: opts.JoinRooms, log: opts.Log, names: opts.RoomNames,
		left: b.access.left}
	if b.rooms.toJoin == nil {
		b.rooms.toJoin = opts.Config.Rooms
	}
	b.directs = &directs{kv: opts.Store}
	b.docs = &commandDocs{table: opts.Commands, self: opts.Config.UserID, client: client, log: opts.Log, now: opts.Now}
	b.invites = &invites{self: opts.Config.UserID, allow: opts.Config.Invites.Allow, client: client,
		direct: b.directs.mark, joined: b.joinedByInvite, log: opts.Log,
		expected: func(room id.RoomID) bool { return b.moves.isReplacement(room) || b.access.expected(room) }}
	b.images = &images{kv: opts.Store, known: opts.Store.Known, enqueue: b.enqueue, upload: client.UploadMedia,
		encrypted: b.encryptedRoom, log: opts.Log}
	b.encrypted = &encryptionNotes{log: opts.Log, state: b.roomEncrypted, why: "encryption.enabled is false"}
	b.encryption = &encryption{cfg: opts.Encryption, pool: opts.Pool, keyWait: defaultKeyWait, keyRequestWait: defaultKeyRequestWait}
	if opts.KeyWait > 0 {
		b.encryption.keyWait, b.encryption.keyRequestWait = opts.KeyWait, opts.KeyWait
	}
	if opts.Pool == nil {
		b.encryption.cfg.Enabled = false
	}
	b.welcomer = b.newWelcomer(opts.Welcome)
	b.sender = newSender(client, opts.Store, opts.Metrics, opts.Log.With().Str("component", "sender").Logger(), opts.Now)
	b.sender.synced = b.readyCh
	b.sender.resolve, b.sender.join = b.rooms.id, b.rooms.join
	b.sender.flushFor = opts.ShutdownTimeout
	b.sender.lease = b.lease
	b.sender.prepare = b.prepareRoom
	b.sender.access = b.access.why
	b.sender.retention = opts.Retention
	if b.sender.retention.Outbox <= 0 {
		b.sender.retention.Outbox = 7 * 24 * time.Hour
	}
	b.router = &router{
		table:      opts.Commands,
		listeners:  opts.Listeners,
		prefix:     opts.Config.CommandPrefix,
		names:      addressNames(opts.Config.UserID),
		flood:      newFloodLimiter(opts.Config.Flood.Commands, opts.Config.Flood.Window),
		powerLevel: b.powerLevel,
		adminLevel: opts.Config.AdminPowerLevel,
		timeout:    30 * time.Second,
	}
	return b, nil
}

// joinedRooms lists the rooms the bot is in, once at start for what reads
// them all (encryption state, command descriptions); nil when the list
// cannot be read (logged: both then learn from the sync instead).
func (b *Bot) joinedRooms(ctx context.Context) []id.RoomID {
	joined, err := b.client.JoinedRooms(ctx)
	if err != nil {
		b.log.Warn().Err(err).Msg("Listing the joined rooms failed; their encryption and command descriptions wait for the sync and invites")
		return nil
	}
	return joined.JoinedRooms
}

// addressNames are the ways people address the bot by name: its full id
// and its localpart ("ibbot: help").
func addressNames(user id.UserID) []string {
	return []string{user.String(), user.Localpart()}
}

// Ready reports whether the bot has completed its first sync.
func (b *Bot) Ready() bool {
	select {
	case <-b.readyCh:
		return true
	default:
		return false
	}
}

// WaitReady blocks until the first sync is done or ctx ends; features that
// post on their own (announcements) start after it.
func (b *Bot) WaitReady(ctx context.Context) error {
	select {
	case <-b.readyCh:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run logs in, joins the configured rooms and serves until ctx ends. Then it
// stops taking commands, flushes the outgoing queue for up to the shutdown
// timeout and returns nil; messages it could not send stay queued for the
// next start. When leadership is lost (see Lease) everything stops at once,
// without a flush: another replica sends what is queued.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.loadFirstStart(ctx); err != nil {
		return err
	}
	if err := b.waitHomeserver(ctx); err != nil {
		return err
	}
	if err := b.login(ctx); err != nil {
		return err
	}
	if err := b.moves.load(ctx); err != nil {
		b.log.Error().Err(err).Msg("Reading the rooms that moved failed; they are followed again as their tombstones are seen")
	}
	if err := b.startEncryption(ctx); err != nil {
		return err
	}
	defer b.encryption.stop()
	if name, err := b.client.GetOwnDisplayName(ctx); err == nil && name.DisplayName != "" {
		b.router.names = append(b.router.names, name.DisplayName)
	}
	b.rooms.joinAll(ctx)
	b.followMovesAtStart(ctx, b.rooms.configured(ctx))
	joined := b.joinedRooms(ctx)
	if b.encryption.e2ee != nil {
		b.learnEncryptedRooms(ctx, joined)
	}
	go b.describeCommands(ctx, joined)
	if b.welcomer != nil {
		b.welcomer.resolveRooms(ctx, b.rooms.id)
	}

	senderCtx, stopSender := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSender()
	go func() {
		select {
		case <-b.lease.lost():
			stopSender()
		case <-senderCtx.Done():
		}
	}()
	drain := make(chan struct{})
	senderDone := make(chan error, 1)
	go func() { senderDone <- b.sender.run(senderCtx, drain) }()

	syncErr := b.syncLoop(ctx)

	close(drain)
	timer := time.AfterFunc(b.sender.flushFor, stopSender)
	defer timer.Stop()
	b.log.Info().Dur("deadline", b.sender.flushFor).Msg("Stopping: flushing the outgoing queue")
	<-senderDone
	if n, err := b.store.PendingCount(context.WithoutCancel(ctx)); err == nil && n > 0 {
		b.log.Warn().Int("pending", n).Msg("Some messages could not be sent before the deadline; they will be sent on the next start")
	}
	return syncErr
}

// RoomAccess names, for !status, the rooms that let the bot go.
func (b *Bot) RoomAccess() health.Reporter { return b.access }

// Health says whether every room can be posted to, for !status.
func (b *Bot) Health() health.Report { return b.sender.rooms.Health() }

// powerLevel reads a user's power level from the room state, fresh each
// time: admin commands are rare and a stale cache would be a security bug.
func (b *Bot) powerLevel(ctx context.Context, room id.RoomID, user id.UserID) (int, error) {
	var pl event.PowerLevelsEventContent
	if err := b.client.StateEvent(ctx, room, event.StatePowerLevels, "", &pl); err != nil {
		return 0, err
	}
	return pl.GetUserLevel(user), nil
}

// Post queues a notice for a room, given by id or alias. key makes it
// idempotent: a second Post with the same key is ignored, even across
// restarts. An alias is resolved when the message is sent, so a room that
// cannot be reached never makes Post fail: its messages wait.
func (b *Bot) Post(ctx context.Context, key, room string, r Reply) error {
	return b.queueNotice(ctx, store.Outgoing{Key: key, RoomID: room}, r)
}

// PostRoot is Post for a message that later ones edit or answer in its
// thread (an issue's announcement, a mail thread): its event id is kept as
// a relation long after the outbox forgets the message (retention.relations).
func (b *Bot) PostRoot(ctx context.Context, key, room string, r Reply) error {
	return b.queueNotice(ctx, store.Outgoing{Key: key, RoomID: room, Anchor: true}, r)
}

// Edit queues a new version of the message posted under targetKey; it
// shows in place of the original. If the original never reached the room,
// the new version is posted as a message of its own.
func (b *Bot) Edit(ctx context.Context, key, room, targetKey string, r Reply) error {
	return b.queueNotice(ctx, store.Outgoing{Key: key, RoomID: room, Relation: RelReplace, TargetKey: targetKey}, r)
}

// PostInThread queues a notice in the thread of the message posted under
// rootKey (or on its own, if that never reached the room).
func (b *Bot) PostInThread(ctx context.Context, key, room, rootKey string, r Reply) error {
	return b.queueNotice(ctx, store.Outgoing{Key: key, RoomID: room, Relation: RelThread, TargetKey: rootKey}, r)
}

func (b *Bot) queueNotice(ctx context.Context, msg store.Outgoing, r Reply) error {
	if msg.Key == "" {
		return errors.New("bot: a message needs a key")
	}
	raw, err := jsonMarshal(noticeContent(r, "", ""))
	if err != nil {
		return err
	}
	msg.EventType, msg.Content = event.EventMessage.Type, raw
	if err := b.sender.enqueue(ctx, msg); err != nil || r.File == nil {
		return err
	}
	room, err := b.rooms.id(ctx, msg.RoomID)
	if err != nil {
		return fmt.Errorf("posting %s: %w", r.File.Name, err)
	}
	return b.images.postFile(ctx, msg.Key+":file", room, r.File)
}

// Posted reports whether a message was ever queued under key.
func (b *Bot) Posted(ctx context.Context, key string) (bool, error) { return b.store.Known(ctx, key) }

// ResolveRoom turns an alias into a room id (an id is returned as is).
func (b *Bot) ResolveRoom(ctx context.Context, room string) (id.RoomID, error) {
	return b.rooms.id(ctx, room)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
