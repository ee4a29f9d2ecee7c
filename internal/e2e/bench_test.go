package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// echoBaseline is the least a bot can do: a plain mautrix client that
// answers "!ping" from its own sync loop, with no store, queue or router.
// The bot's round trip is reported as a ratio to this one's.
func echoBaseline(ctx context.Context, u *testenv.User) {
	since := ""
	for ctx.Err() == nil {
		resp, err := u.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: 30000, Since: since})
		if err != nil {
			continue
		}
		first := since == ""
		since = resp.NextBatch
		if first {
			continue
		}
		for roomID, room := range resp.Rooms.Join {
			for _, evt := range room.Timeline.Events {
				if evt.Sender == u.UserID || evt.Type != event.EventMessage {
					continue
				}
				evt.Content.ParseRaw(evt.Type)
				if msg := evt.Content.AsMessage(); msg.MsgType == event.MsgText && msg.Body == "!ping" {
					u.SendMessageEvent(ctx, roomID, event.EventMessage, &event.MessageEventContent{
						MsgType: event.MsgNotice, Body: "pong", Mentions: &event.Mentions{},
						RelatesTo: &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: evt.ID}},
					})
				}
			}
		}
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// rssKB reads a process's resident memory from /proc.
func rssKB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, errors.New("no VmRSS")
}

// BenchmarkCommandRoundTrip measures, in one run, the time from a user
// sending !ping to the same user's sync seeing the answer, for the real
// ibbot process and for echoBaseline, interleaved so both see the same
// machine noise. It also reads the bot's resident memory at idle and after
// all commands. Run: go test ./internal/e2e -run '^$' -bench RoundTrip -benchtime 1x
// (IBBOT_BENCH_COMMANDS sets the number of commands, default 1000).
func BenchmarkCommandRoundTrip(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("IBBOT_BENCH_COMMANDS")); err == nil && v > 0 {
		n = v
	}
	s := newStack(b)
	p := startProcess(b, s, "info")
	idleRSS, err := rssKB(p.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	echo, err := s.hs.Register(ctx, "echo", "echo-password-1")
	if err != nil {
		b.Fatal(err)
	}
	echoRoom, err := s.human.CreateRoom(ctx, "baseline", echo.UserID)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := echo.JoinRoomByID(ctx, echoRoom); err != nil {
		b.Fatal(err)
	}
	go echoBaseline(ctx, echo)

	var botTimes, baseTimes []time.Duration
	for i := range n + 20 {
		bt, err := roundTripSaying(ctx, s.human, s.room, "!ping")
		if err != nil {
			b.Fatalf("bot round trip %d: %v", i, err)
		}
		et, err := roundTripSaying(ctx, s.human, echoRoom, "!ping")
		if err != nil {
			b.Fatalf("baseline round trip %d: %v", i, err)
		}
		if i >= 20 { // the first ones warm up both sides
			botTimes, baseTimes = append(botTimes, bt), append(baseTimes, et)
		}
	}
	busyRSS, _ := rssKB(p.cmd.Process.Pid)

	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(botTimes, 0.5)), "bot-p50-ms")
	b.ReportMetric(ms(percentile(botTimes, 0.99)), "bot-p99-ms")
	b.ReportMetric(ms(percentile(baseTimes, 0.5)), "baseline-p50-ms")
	b.ReportMetric(ms(percentile(baseTimes, 0.99)), "baseline-p99-ms")
	b.ReportMetric(ms(percentile(botTimes, 0.5))/ms(percentile(baseTimes, 0.5)), "p50-ratio")
	b.ReportMetric(ms(percentile(botTimes, 0.99))/ms(percentile(baseTimes, 0.99)), "p99-ratio")
	b.ReportMetric(float64(idleRSS)/1024, "idle-rss-MB")
	b.ReportMetric(float64(busyRSS)/1024, "rss-after-MB")
	b.Logf("%d commands each: bot p50 %s p99 %s; baseline p50 %s p99 %s; RSS idle %d kB, after %d kB",
		n, percentile(botTimes, 0.5), percentile(botTimes, 0.99), percentile(baseTimes, 0.5), percentile(baseTimes, 0.99), idleRSS, busyRSS)
}

// roundTripSaying times a command: from sending text to the same user's
// sync seeing the answer.
func roundTripSaying(ctx context.Context, u *testenv.User, room id.RoomID, text string) (time.Duration, error) {
	start := time.Now()
	evt, err := u.Say(ctx, room, text)
	if err != nil {
		return 0, err
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err := u.WaitFor(wctx, testenv.ReplyTo(evt)); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// BenchmarkHashRoundTrip measures `!hash composer` with a warm cache next
// to `!ping`, interleaved in one run against the real binary, and counts
// the GitHub API requests of one cold `!hash composer`.
// Run: go test ./internal/e2e -run '^$' -bench HashRoundTrip -benchtime 1x
func BenchmarkHashRoundTrip(b *testing.B) {
	n := 300
	if v, err := strconv.Atoi(os.Getenv("IBBOT_BENCH_COMMANDS")); err == nil && v > 0 {
		n = v
	}
	s := newStack(b)
	startProcess(b, s, "info")
	ctx := context.Background()

	before := len(s.github.Requests())
	if _, err := roundTripSaying(ctx, s.human, s.room, "!hash composer"); err != nil {
		b.Fatal(err)
	}
	cold := len(s.github.Requests()) - before

	var hash, ping []time.Duration
	for i := range n {
		h, err := roundTripSaying(ctx, s.human, s.room, "!hash composer")
		if err != nil {
			b.Fatalf("hash %d: %v", i, err)
		}
		p, err := roundTripSaying(ctx, s.human, s.room, "!ping")
		if err != nil {
			b.Fatalf("ping %d: %v", i, err)
		}
		hash, ping = append(hash, h), append(ping, p)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(float64(cold), "cold-github-requests")
	b.ReportMetric(ms(percentile(hash, 0.5)), "hash-p50-ms")
	b.ReportMetric(ms(percentile(hash, 0.99)), "hash-p99-ms")
	b.ReportMetric(ms(percentile(ping, 0.5)), "ping-p50-ms")
	b.ReportMetric(ms(percentile(ping, 0.99)), "ping-p99-ms")
	b.ReportMetric(ms(percentile(hash, 0.5))/ms(percentile(ping, 0.5)), "p50-ratio")
	b.Logf("cold !hash composer: %d GitHub requests %v; warm p50 %s vs ping %s",
		cold, s.github.Requests()[before:before+cold], percentile(hash, 0.5), percentile(ping, 0.5))
}

// BenchmarkWebhookToRoom measures from posting a signed delivery to the
// room member seeing the announcement (aggregation window 0).
// Run: go test ./internal/e2e -run '^$' -bench WebhookToRoom -benchtime 1x
func BenchmarkWebhookToRoom(b *testing.B) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv("IBBOT_BENCH_COMMANDS")); err == nil && v > 0 {
		n = v
	}
	s := newStack(b)
	port := freeTCPPort(b)
	cfg := s.config(s.hs.URL)
	cfg.HTTP.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.Log.Level = "warn"
	cfg.GitHub.Webhook = config.Webhook{Path: "/github/webhook", Secret: config.NewSecret(webhookSecret)}
	cfg.GitHub.AggregationWindow = 0
	cfg.GitHub.PollInterval = 0
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{s.room.String()}, Repos: []string{"Codertocat/Hello-World"}, Events: []config.Event{config.EventIssues}}}
	startBot(b, cfg)
	hook := fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)
	ctx := context.Background()

	var lat []time.Duration
	for i := range n + 10 {
		number := 5000 + i
		body := delivery(b, "issues.opened.payload.json", numbered(number, fmt.Sprintf("latency probe %d", i)))
		start := time.Now()
		if code := postDelivery(b, hook, "issues", fmt.Sprintf("lat-%d", i), body, sign(body)); code != http.StatusAccepted {
			b.Fatalf("delivery %d: %d", i, code)
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		_, err := s.human.WaitFor(wctx, aboutItem(fmt.Sprintf("Codertocat/Hello-World#%d", number)))
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if i >= 10 {
			lat = append(lat, time.Since(start))
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(lat, 0.5)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.Logf("webhook to room, %d deliveries: p50 %s, p99 %s", n, percentile(lat, 0.5), percentile(lat, 0.99))
}

// BenchmarkMailToRoom measures from an IMAP APPEND to Dovecot to the room
// member seeing the notice, over 100 mails, next to the floor: a plain
// IMAP client in IDLE on the same mailbox hearing EXISTS for the same
// mails. It also reports the bot's per-stage times from /metrics.
// Run: go test ./internal/e2e -run '^$' -bench MailToRoom -benchtime 1x
func BenchmarkMailToRoom(b *testing.B) {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("IBBOT_BENCH_COMMANDS")); err == nil && v > 0 {
		n = v
	}
	d := needDovecot(b)
	s := newStack(b)
	port := freeTCPPort(b)
	cfg := s.config(s.hs.URL)
	cfg.Log.Level = "warn"
	cfg.HTTP.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.Mail = mailConfig(d, s.room.String())
	startBot(b, cfg)
	floor := newIdleClient(b, d)
	var lat, idle []time.Duration
	for i := range n + 5 {
		subject := fmt.Sprintf("latency %d", i)
		start := time.Now()
		if err := d.Append(listMail(fmt.Sprintf("lat-%d@example.com", i), subject, "", mailList)); err != nil {
			b.Fatal(err)
		}
		heard := floor.waitExists(b, uint32(i+1))
		s.human.MustWait(b, wait, subject, threadRootAbout(subject))
		if i >= 5 {
			lat, idle = append(lat, time.Since(start)), append(idle, heard.Sub(start))
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(lat, 0.5)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(idle, 0.5)), "idle-floor-p50-ms")
	b.ReportMetric(ms(percentile(idle, 0.99)), "idle-floor-p99-ms")
	b.Logf("IMAP APPEND to room, %d mails: p50 %s, p99 %s; a plain IDLE client hears EXISTS p50 %s, p99 %s",
		n, percentile(lat, 0.5), percentile(lat, 0.99), percentile(idle, 0.5), percentile(idle, 0.99))
	b.Logf("per stage (mean):%s", stageMeans(b, fmt.Sprintf("http://127.0.0.1:%d/metrics", port)))
}

// idleClient is a plain IMAP client in IDLE, the floor any client has.
type idleClient struct {
	exists chan existsAt
}

type existsAt struct {
	n  uint32
	at time.Time
}

func newIdleClient(b *testing.B, d *testenv.Dovecot) *idleClient {
	ic := &idleClient{exists: make(chan existsAt, 1000)}
	c, err := imapclient.DialInsecure(d.Address, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{Mailbox: func(m *imapclient.UnilateralDataMailbox) {
			if m.NumMessages != nil {
				ic.exists <- existsAt{*m.NumMessages, time.Now()}
			}
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if err := c.Login(d.Username, d.Password).Wait(); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Idle(); err != nil {
		b.Fatal(err)
	}
	return ic
}

// waitExists returns when the server told the client of message n.
func (ic *idleClient) waitExists(b *testing.B, n uint32) time.Time {
	timeout := time.After(wait)
	for {
		select {
		case e := <-ic.exists:
			if e.n >= n {
				return e.at
			}
		case <-timeout:
			b.Fatalf("the IDLE client never heard of message %d", n)
		}
	}
}

// stageMeans reads the bot's stage histograms from /metrics.
func stageMeans(b *testing.B, url string) string {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	sums, counts := map[string]float64{}, map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		for _, kind := range []string{"_sum", "_count"} {
			for _, name := range []string{"ibbot_mail_stage_seconds" + kind + "{stage=\"", "ibbot_send_latency_seconds" + kind + " "} {
				rest, ok := strings.CutPrefix(line, name)
				if !ok {
					continue
				}
				stage, value := "send", rest
				if strings.Contains(name, "{") {
					stage, value, _ = strings.Cut(rest, "\"} ")
				}
				v, _ := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if kind == "_sum" {
					sums[stage] = v
				} else {
					counts[stage] = v
				}
			}
		}
	}
	var out strings.Builder
	for _, stage := range []string{"heard_to_listed", "heard_to_fetched", "parse", "queue", "send"} {
		if counts[stage] > 0 {
			fmt.Fprintf(&out, " %s %.2f ms (%d);", stage, 1000*sums[stage]/counts[stage], int(counts[stage]))
		}
	}
	return out.String()
}
