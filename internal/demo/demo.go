// Package demo runs ibbot on a local stack with no accounts anywhere: a
// Dendrite homeserver on loopback, the bot, a demo room and a demo user. It
// plays a short conversation, prints it, and then leaves everything running
// for a person to log in with any Matrix client.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/app"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/logging"
	"github.com/osbuild/ibbot/internal/testenv"
)

// Options tune the demo.
type Options struct {
	// Keep leaves the stack running after the transcript until ctx ends.
	Keep bool
}

// docsRepo is where the demo's documentation is read from.
const docsRepo = "osbuild/osbuild.github.io"

// script is the conversation the demo plays; later features add lines.
var script = []string{
	"!help", "!ping", "!hsah composer", "ibbot: version",
	"!hash", "!hash composer", "!arch", "!arch crc", "!contribute frontend", "!contact",
}

// Run starts the stack, plays the script to out and, with Keep, waits for
// ctx to end. Everything it started is stopped before it returns.
func Run(ctx context.Context, out io.Writer, opts Options) error {
	out = &squeezed{w: out}
	st := &stack{}
	defer st.stop()
	if err := st.start(ctx, out); err != nil {
		return err
	}
	if err := st.play(ctx, out); err != nil {
		return err
	}
	if !opts.Keep {
		return nil
	}
	fmt.Fprintf(out, "\nThe stack keeps running. Log in with any Matrix client (e.g. Element, \"custom homeserver\"):\n"+
		"  homeserver: %s\n  user:       %s\n  password:   %s\n  room:       %s (\"ibbot demo\")\n  bot log:    %s\n"+
		"  status page: %s\nPress Ctrl-C to stop everything.\n", st.hs.URL, st.human.UserID, st.human.Password, st.room, st.logPath, st.pageURL)
	select {
	case <-ctx.Done():
		return nil
	case err := <-st.botDone:
		st.botDone <- err
		return fmt.Errorf("the bot stopped: %w", err)
	}
}

// stack is everything the demo runs: a homeserver with the bot's account,
// a demo user and a room; a stand-in GitHub; a mailbox; the bot.
type stack struct {
	hs      *testenv.Dendrite
	human   *testenv.User
	room    id.RoomID
	gh      *testenv.GitHub
	world   *World // what the demo's GitHub answers from
	mailbox *testenv.IMAPServer
	hook    string // the bot's webhook URL
	// alertsURL is the bot's Alertmanager receiver.
	alertsURL string
	status    *testenv.Statuspage // the Statuspage page the bot follows
	logPath   string
	pageURL   string // the status page
	botDone   chan error
	stops     []func() // run in reverse by stop
	// commandsPerMinute overrides the demo's flood limit (a test asks
	// faster than any person); 0 keeps it.
	commandsPerMinute int
}

// later registers f to run at stop.
func (st *stack) later(f func()) { st.stops = append(st.stops, f) }

func (st *stack) stop() {
	for i := len(st.stops) - 1; i >= 0; i-- {
		st.stops[i]()
	}
}

// start brings the stack up, the bot last, and waits for its first sync.
func (st *stack) start(ctx context.Context, out io.Writer) error {
	dir, err := os.MkdirTemp("", "ibbot-demo-")
	if err != nil {
		return err
	}
	st.later(func() { os.RemoveAll(dir) })
	botUser, err := st.startMatrix(ctx, out, dir)
	if err != nil {
		return err
	}
	// GitHub and the diagram, offline, on loopback: the real diagram, and
	// a made-up world shaped like Image Builder's (see world.go).
	st.gh = testenv.NewGitHub()
	st.later(st.gh.Close)
	st.gh.SetDiagram(fixtures.Read(fixtures.DiagramNewest), time.Now().Add(-20*time.Hour))
	st.world = NewWorld(time.Now())
	st.gh.SetBackend(st.world)
	// The documentation: test pages in the layout of osbuild.org's
	// repository, read through the git data API like the real one.
	st.gh.SetDocs(docsRepo, testenv.DocsFromFS(fixtures.FS, "docs/docs", "docs"), time.Now().Add(-48*time.Hour))
	// The list's mailbox: go-imap's in-process IMAP server.
	if st.mailbox, err = testenv.StartMemIMAP(); err != nil {
		return err
	}
	st.later(st.mailbox.Close)
	st.status = startStatuspage()
	st.later(st.status.Close)
	return st.startBot(ctx, botUser, dir)
}

// startMatrix starts Dendrite and registers the bot and the demo user,
// who makes the demo room.
func (st *stack) startMatrix(ctx context.Context, out io.Writer, dir string) (*testenv.User, error) {
	fmt.Fprintln(out, "Building and starting a local Dendrite homeserver (the first build takes a few minutes)...")
	bin, err := testenv.BuildDendrite(ctx)
	if err != nil {
		return nil, err
	}
	if st.hs, err = testenv.StartDendrite(ctx, bin, mkdir(dir, "dendrite")); err != nil {
		return nil, err
	}
	st.later(st.hs.Stop)
	botUser, err := st.hs.Register(ctx, "ibbot", "ibbot-demo-password")
	if err != nil {
		return nil, err
	}
	if st.human, err = st.hs.Register(ctx, "demo", "demo-password"); err != nil {
		return nil, err
	}
	if st.room, err = st.human.CreateRoom(ctx, "ibbot demo", botUser.UserID); err != nil {
		return nil, err
	}
	if err := st.human.StartSync(ctx); err != nil {
		return nil, err
	}
	st.later(st.human.StopSync)
	return botUser, nil
}

// startBot runs the bot exactly as `ibbot run` does, logging to a file.
func (st *stack) startBot(ctx context.Context, botUser *testenv.User, dir string) error {
	cfg := botConfig(st.hs, botUser, st.room, dir, st.gh)
	cfg.Mail = demoMailConfig(st.mailbox, st.room)
	cfg.Incidents = config.Incidents{Statuspage: st.status.URL, Components: []string{"Image Builder"}, Rooms: []string{st.room.String()}, PollInterval: time.Second}
	if st.commandsPerMinute > 0 {
		cfg.Matrix.Flood.Commands = st.commandsPerMinute
	}
	page, err := freeAddress()
	if err != nil {
		return err
	}
	cfg.Status.Listen, cfg.Status.PublicURL = page, "http://"+page+"/"
	st.pageURL = cfg.Status.PublicURL
	opsListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	st.hook = "http://" + opsListener.Addr().String() + cfg.GitHub.Webhook.Path
	st.alertsURL = "http://" + opsListener.Addr().String() + cfg.Alerts.Webhook.Path
	st.logPath = filepath.Join(dir, "ibbot.log")
	logFile, err := os.Create(st.logPath)
	if err != nil {
		return err
	}
	st.later(func() { logFile.Close() })
	botCtx, stopBot := context.WithCancel(ctx)
	st.botDone = make(chan error, 1)
	ready := make(chan *bot.Bot, 1)
	go func() {
		st.botDone <- app.Run(botCtx, cfg, logging.New(logFile, cfg.Log), app.Options{Listener: opsListener, Started: func(b *bot.Bot) { ready <- b }})
	}()
	st.later(func() { stopBot(); <-st.botDone })
	return waitReady(ctx, ready, st.botDone)
}

// play runs the scripted conversation and the relays' scenes.
func (st *stack) play(ctx context.Context, out io.Writer) error {
	fmt.Fprintf(out, "\nTranscript of room %s:\n\n", st.room)
	for _, line := range script {
		if err := exchange(ctx, out, st.human, st.room, line); err != nil {
			return err
		}
	}
	scenes := []func() error{
		func() error { return showDeploy(ctx, out, st.human, st.gh, st.world.Head(composerRepo)) },
		func() error { return exchange(ctx, out, st.human, st.room, "!deployed osbuild/osbuild-composer#4512") },
		func() error { return exchange(ctx, out, st.human, st.room, "!deploys") },
		func() error { return showGitHub(ctx, out, st.human, st.room, st.world, st.hook) },
		func() error { return showRoomSubscriptions(ctx, out, st.human, st.room, st.hook) },
		func() error { return showMail(ctx, out, st.human, st.mailbox) },
		func() error { return exchange(ctx, out, st.human, st.room, "!ml") },
		func() error { return exchange(ctx, out, st.human, st.room, "!docs how do I add a user to a blueprint") },
		func() error { return exchange(ctx, out, st.human, st.room, "!search build RHEL 10 images for Azure") },
		func() error { return showAlert(ctx, out, st.human, st.alertsURL) },
		func() error { return exchange(ctx, out, st.human, st.room, "!alerts") },
		func() error { return showIncident(ctx, out, st.human, st.status) },
		func() error { return exchange(ctx, out, st.human, st.room, "!incidents") },
		func() error { return showMeeting(ctx, out, st.human, st.room) },
		func() error { return exchange(ctx, out, st.human, st.room, "!meetings") },
		func() error { return exchange(ctx, out, st.human, st.room, "!status") },
		func() error { return showWelcome(ctx, out, st.hs, st.human, st.room) },
		func() error { return showPage(ctx, out, st.pageURL) },
	}
	for _, scene := range scenes {
		if err := scene(); err != nil {
			return err
		}
	}
	return nil
}

func botConfig(hs *testenv.Dendrite, u *testenv.User, room id.RoomID, dir string, gh *testenv.GitHub) *config.Config {
	cfg := config.Defaults()
	cfg.Matrix.Homeserver = hs.URL
	cfg.Matrix.UserID = u.UserID
	cfg.Matrix.Password = config.NewSecret(u.Password)
	cfg.Matrix.Rooms = []string{room.String()}
	cfg.Database = filepath.Join(dir, "ibbot.db")
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Log.Format = "json"
	cfg.Log.Level = "debug"
	cfg.GitHub.APIURL = gh.URL
	cfg.ProdHash.SVGURL = gh.DiagramURL()
	cfg.ProdHash.Rooms = []string{room.String()}
	cfg.ProdHash.CheckInterval = time.Second
	cfg.ProdHash.CacheTTL = 0
	cfg.Welcome.Rooms = []string{room.String()}
	cfg.Matrix.Flood.Commands = 30 // the script is quicker than any person
	cfg.GitHub.Webhook = config.Webhook{Path: "/github/webhook", Secret: config.NewSecret(demoWebhookSecret)}
	cfg.GitHub.AggregationWindow = 500 * time.Millisecond
	cfg.GitHub.DigestInterval = 2 * time.Second
	cfg.GitHub.PollInterval = 0
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{room.String()}, Repos: []string{"osbuild/*"}, Events: config.DefaultEvents, Bots: config.BotsDigest, Drafts: config.DraftsHide}}
	cfg.GitHub.Rooms = map[string]config.GitHubRoom{room.String(): {DefaultRepo: demoRepo}}
	cfg.Alerts = config.Alerts{Webhook: config.AlertsWebhook{Path: "/alertmanager", Token: config.NewSecret(demoAlertsToken)},
		Routes: []config.AlertRoute{{Rooms: []string{room.String()}}}}
	cfg.Search = config.Search{Refresh: time.Hour, Docs: []config.DocsSource{{Repo: docsRepo, Path: "docs", URL: "https://osbuild.org/docs/"}}}
	return &cfg
}

func waitReady(ctx context.Context, started <-chan *bot.Bot, done chan error) error {
	var b *bot.Bot
	select {
	case b = <-started:
	case err := <-done:
		return fmt.Errorf("the bot did not start: %w", err)
	}
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !b.Ready() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			return fmt.Errorf("the bot stopped: %w", err)
		case <-deadline.C:
			return errors.New("the bot did not finish its first sync within a minute")
		case <-tick.C:
		}
	}
	return nil
}

// say sends one line as the demo user and prints it.
func say(ctx context.Context, out io.Writer, human *testenv.User, room id.RoomID, line string) (id.EventID, error) {
	evt, err := human.Say(ctx, room, line)
	if err == nil {
		fmt.Fprintf(out, "%s: %s\n", human.UserID.Localpart(), line)
	}
	return evt, err
}

// exchange sends one line as the demo user and prints it with the bot's answer.
func exchange(ctx context.Context, out io.Writer, human *testenv.User, room id.RoomID, line string) error {
	evt, err := say(ctx, out, human, room, line)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	answer, err := human.WaitFor(wctx, testenv.ReplyTo(evt))
	if err != nil {
		return fmt.Errorf("no answer to %q: %w", line, err)
	}
	fmt.Fprintf(out, "%s: %s\n", answer.Sender.Localpart(), indentBody(answer))
	if strings.HasPrefix(line, "!arch") && len(strings.Fields(line)) == 1 {
		img, err := human.WaitFor(wctx, func(e *event.Event) bool {
			return testenv.ReplyTo(evt)(e) && e.Content.AsMessage().MsgType == event.MsgImage
		})
		if err != nil {
			return fmt.Errorf("no diagram after !arch: %w", err)
		}
		info := img.Content.AsMessage().Info
		fmt.Fprintf(out, "%s: [image, %dx%d PNG, %d kB: %s]\n", img.Sender.Localpart(), info.Width, info.Height, info.Size/1024, testenv.Body(img))
	}
	fmt.Fprintln(out)
	return nil
}

// showDeploy makes the served diagram move composer to to (main's head),
// as the daily diagram update does after a deploy, and prints the
// announcement.
func showDeploy(ctx context.Context, out io.Writer, human *testenv.User, gh *testenv.GitHub, to string) error {
	fmt.Fprintln(out, "(the published diagram now shows composer at main's newest commit)")
	svg := bytes.ReplaceAll(fixtures.Read(fixtures.DiagramNewest),
		[]byte("0e2daa201f0a0d97358a12740bfad416c9e4f7b4"), []byte(to))
	gh.SetDiagram(svg, time.Now())
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ann, err := human.WaitFor(wctx, func(e *event.Event) bool {
		return strings.Contains(testenv.Body(e), " deployed: ") && strings.Contains(testenv.Body(e), "→")
	})
	if err != nil {
		return fmt.Errorf("no deploy announcement: %w", err)
	}
	fmt.Fprintf(out, "%s: %s\n\n", ann.Sender.Localpart(), indentBody(ann))
	return nil
}

// showWelcome has a newcomer join the room; the bot greets them once.
func showWelcome(ctx context.Context, out io.Writer, hs *testenv.Dendrite, human *testenv.User, room id.RoomID) error {
	fmt.Fprintln(out, "\n(a newcomer joins the room)")
	newcomer, err := hs.Register(ctx, "newcomer", "newcomer-demo-password")
	if err != nil {
		return err
	}
	if _, err := newcomer.JoinRoomByID(ctx, room); err != nil {
		return err
	}
	return printNext(ctx, out, human, func(e *event.Event) bool {
		return isNotice(e) && strings.Contains(testenv.Body(e), "newcomer") && strings.Contains(testenv.Body(e), "elcome")
	})
}

// showPage fetches the status page the bot serves and says where it is.
func showPage(ctx context.Context, out io.Writer, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"status.json", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the status page does not answer: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the status page answered %d", resp.StatusCode)
	}
	fmt.Fprintf(out, "\n(the bot also serves the live architecture page: %s, and %sstatus.json)\n", url, url)
	return nil
}

// squeezed writes what it is given with runs of empty lines cut to one,
// so the scenes can each open and close with a blank line.
type squeezed struct {
	w     io.Writer
	lines int // newlines just written, in a row
}

func (s *squeezed) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p))
	for _, b := range p {
		if b == '\n' {
			s.lines++
			if s.lines > 2 {
				continue
			}
		} else {
			s.lines = 0
		}
		out = append(out, b)
	}
	if _, err := s.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// freeAddress is a loopback address nothing listens on now.
func freeAddress() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func isNotice(e *event.Event) bool {
	return e.Type == event.EventMessage && e.Content.AsMessage().MsgType == event.MsgNotice
}

func indentBody(e *event.Event) string {
	return strings.ReplaceAll(testenv.Body(e), "\n", "\n       ")
}

func mkdir(parent, name string) string {
	p := filepath.Join(parent, name)
	os.MkdirAll(p, 0o755)
	return p
}
