package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	_ "modernc.org/sqlite"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/app"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

const wait = 30 * time.Second

// stack is a homeserver, a room, a human in it, and the bot's account.
type stack struct {
	hs      *testenv.Dendrite
	github  *testenv.GitHub
	human   *testenv.User
	botUser *testenv.User
	room    id.RoomID
	dbPath  string // a SQLite file, or a PostgreSQL URL
}

func newStack(t testing.TB) *stack {
	t.Helper()
	hs := testenv.NewDendrite(t)
	botUser, err := hs.Register(context.Background(), "ibbot", "bot-password-123")
	if err != nil {
		t.Fatal(err)
	}
	human := hs.NewUser(t, "alice")
	room, err := human.CreateRoom(context.Background(), "test", botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	gh := testenv.NewGitHub()
	t.Cleanup(gh.Close)
	return &stack{hs: hs, github: gh, human: human, botUser: botUser, room: room, dbPath: filepath.Join(t.TempDir(), "ibbot.db")}
}

// onBothDatabases runs test on a stack with a SQLite file and on one with
// a real PostgreSQL database.
func onBothDatabases(t *testing.T, test func(t *testing.T, s *stack)) {
	t.Run("sqlite", func(t *testing.T) { test(t, newStack(t)) })
	t.Run("postgres", func(t *testing.T) {
		pg := testenv.NewPostgres(t)
		s := newStack(t)
		s.dbPath = pg.EmptyDB(t)
		test(t, s)
	})
}

func (s *stack) config(homeserver string) *config.Config {
	cfg := config.Defaults()
	cfg.Matrix.Homeserver = homeserver
	cfg.Matrix.UserID = s.botUser.UserID
	cfg.Matrix.Password = config.NewSecret(s.botUser.Password)
	cfg.Matrix.Rooms = []string{s.room.String()}
	cfg.Database = s.dbPath
	cfg.HTTP.Listen = ""
	cfg.Shutdown.Timeout = 5 * time.Second
	cfg.Matrix.Flood.Commands = 0 // tests send many commands; TestFloodLimit turns it on
	// Never the internet: GitHub and the diagram come from the fake.
	cfg.GitHub.APIURL = s.github.URL
	cfg.ProdHash.SVGURL = s.github.DiagramURL()
	return &cfg
}

// running is a bot started in-process, exactly as `ibbot run` starts it.
type running struct {
	bot  *bot.Bot
	stop func() error
}

func startBot(t testing.TB, cfg *config.Config) *running {
	t.Helper()
	started := make(chan *bot.Bot, 1)
	return startBotOpts(t, cfg, app.Options{Started: func(b *bot.Bot) { started <- b }}, started)
}

func startBotOpts(t testing.TB, cfg *config.Config, opts app.Options, started chan *bot.Bot, alsoLogTo ...io.Writer) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	out := io.MultiWriter(append([]io.Writer{zerolog.NewTestWriter(t)}, alsoLogTo...)...)
	level := zerolog.InfoLevel
	if len(alsoLogTo) > 0 {
		level = zerolog.DebugLevel // a test reading the log reads all of it
	}
	log := zerolog.New(out).Level(level).With().Timestamp().Logger()
	go func() { done <- app.Run(ctx, cfg, log, opts) }()
	var b *bot.Bot
	select {
	case b = <-started:
	case err := <-done:
		cancel()
		t.Fatalf("bot did not start: %v", err)
	}
	stopped := false
	r := &running{bot: b, stop: func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}}
	t.Cleanup(func() { r.stop() })
	readyCtx, cancelReady := context.WithTimeout(ctx, wait)
	defer cancelReady()
	if err := b.WaitReady(readyCtx); err != nil {
		t.Fatalf("bot not ready: %v", err)
	}
	return r
}

// waitQuiet waits until the bot's database holds nothing waiting to be
// relayed or sent.
func (s *stack) waitQuiet(t testing.TB) {
	t.Helper()
	db := openStored(t, s.dbPath)
	defer db.Close()
	var waiting int
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM outbox WHERE state = 'pending') + (SELECT COUNT(*) FROM gh_deliveries WHERE done = 0)`).Scan(&waiting)
		if err == nil && waiting == 0 {
			return
		}
	}
	t.Fatalf("%d messages and deliveries still wait after %s", waiting, wait)
}

// openStored opens the bot's database (a SQLite file, read-only, or a
// PostgreSQL URL) beside the bot.
func openStored(t testing.TB, dbPath string) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", "file:"+dbPath+"?mode=ro"
	if store.IsPostgres(dbPath) {
		driver, dsn = "pgx", dbPath
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// openWritable opens a stopped bot's SQLite database to change it.
func openWritable(t testing.TB, dbPath string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// storedSession reads the Matrix session the bot kept in its database (a
// SQLite file or a PostgreSQL URL).
func storedSession(t testing.TB, dbPath string) (device id.DeviceID, token string) {
	t.Helper()
	db := openStored(t, dbPath)
	defer db.Close()
	var raw string
	if err := db.QueryRow(`SELECT value FROM kv WHERE key = 'matrix.session'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var s struct {
		DeviceID    id.DeviceID `json:"device_id"`
		AccessToken string      `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	return s.DeviceID, s.AccessToken
}

func isNotice(e *event.Event) bool {
	return e.Type == event.EventMessage && e.Content.AsMessage().MsgType == event.MsgNotice
}

// settle proves the bot has processed everything sent before it: it sends
// a probe command and waits for its answer. Counting after settle needs no
// sleep.
//
// Answers overtake announcements in the bot's queue, so the probe is sent
// only once nothing waits to be relayed (deliveries) or sent (the
// outbox): its answer then comes after everything before it.
func (s *stack) settle(t *testing.T) {
	t.Helper()
	s.waitQuiet(t)
	probe := s.human.MustSay(t, s.room, "!ping")
	s.human.MustWait(t, wait, "answer to the probe", testenv.ReplyTo(probe))
}

// fetchPage GETs url and returns its body.
func fetchPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
