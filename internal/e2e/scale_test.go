package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/testenv"
)

// BenchmarkScale measures how ibbot's cost grows with its work: 100 rooms,
// 300 repositories subscribed across them (3 each), a burst of 5,000
// signed webhooks and a burst of 2,000 list mails. Each drain time is
// reported next to the floor: a plain client sending as many messages to
// the same homeserver, measured in the same run. It also reports ibbot's
// RSS and database size before and after.
// Run: go test ./internal/e2e -run '^$' -bench Scale -benchtime 1x
// (IBBOT_SCALE_WEBHOOKS and IBBOT_SCALE_MAILS change the bursts).
func BenchmarkScale(b *testing.B) {
	const rooms, reposPerRoom = 100, 3
	webhooks, mails := envInt("IBBOT_SCALE_WEBHOOKS", 5000), envInt("IBBOT_SCALE_MAILS", 2000)
	d := needDovecot(b)
	s := newStack(b)
	ctx := context.Background()
	roomIDs := make([]id.RoomID, rooms)
	for i := range roomIDs {
		r, err := s.human.CreateRoom(ctx, fmt.Sprintf("scale-%03d", i), s.botUser.UserID)
		if err != nil {
			b.Fatal(err)
		}
		roomIDs[i] = r
	}
	port := freeTCPPort(b)
	p := launch(b, s, port, scaleConfig(s, d, port, roomIDs, reposPerRoom))
	idleRSS, _ := rssKB(p.cmd.Process.Pid)
	dbBefore := dbSize(s.dbPath)

	floorRate := floorSendRate(b, s, roomIDs, 1000)

	hook := fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)
	pid := p.cmd.Process.Pid
	cpu0 := cpuSeconds(pid)
	start := time.Now()
	sentBefore := sentTotal(b, p)
	postBurst(b, hook, webhooks, rooms*reposPerRoom)
	accepted := time.Since(start)
	waitSent(b, p, sentBefore+webhooks)
	hookDrain := time.Since(start)
	hookRSS, _ := rssKB(p.cmd.Process.Pid)
	cpu1 := cpuSeconds(pid)

	start, sentBefore = time.Now(), sentTotal(b, p)
	var raws [][]byte
	for i := range mails {
		raws = append(raws, listMail(fmt.Sprintf("scale-%d@example.com", i), fmt.Sprintf("scale thread %d", i), "", mailList))
	}
	if err := d.Append(raws...); err != nil {
		b.Fatal(err)
	}
	waitSent(b, p, sentBefore+mails)
	mailDrain := time.Since(start)
	mailRSS, _ := rssKB(p.cmd.Process.Pid)
	dbAfter := dbSize(s.dbPath)
	cpu2 := cpuSeconds(pid)

	hookFloor := time.Duration(float64(webhooks) / floorRate * float64(time.Second))
	mailFloor := time.Duration(float64(mails) / floorRate * float64(time.Second))
	b.ReportMetric(hookDrain.Seconds(), "webhook-drain-s")
	b.ReportMetric(hookDrain.Seconds()/hookFloor.Seconds(), "webhook-drain/floor")
	b.ReportMetric(mailDrain.Seconds(), "mail-drain-s")
	b.ReportMetric(mailDrain.Seconds()/mailFloor.Seconds(), "mail-drain/floor")
	b.ReportMetric(float64(idleRSS)/1024, "idle-rss-MB")
	b.ReportMetric(float64(max(hookRSS, mailRSS))/1024, "peak-rss-MB")
	p.cmd.Process.Signal(syscall.SIGTERM) // a clean stop (and a profile written, when asked for)
	<-p.exited
	b.Logf("%d rooms, %d repos; floor: a plain client sends %.0f msg/s", rooms, rooms*reposPerRoom, floorRate)
	b.Logf("%d webhooks: all answered in %s, drained in %s (floor %s, ratio %.2f)",
		webhooks, accepted.Round(time.Millisecond), hookDrain.Round(time.Millisecond), hookFloor.Round(time.Millisecond), hookDrain.Seconds()/hookFloor.Seconds())
	b.Logf("%d mails: drained in %s (floor %s, ratio %.2f)",
		mails, mailDrain.Round(time.Millisecond), mailFloor.Round(time.Millisecond), mailDrain.Seconds()/mailFloor.Seconds())
	b.Logf("ibbot's CPU: %.2f ms per webhook message, %.2f ms per mail message",
		1000*(cpu1-cpu0)/float64(webhooks), 1000*(cpu2-cpu1)/float64(mails))
	b.Logf("RSS: idle %.1f MB, after the webhooks %.1f MB, after the mails %.1f MB; database %.1f MB before, %.1f MB after",
		float64(idleRSS)/1024, float64(hookRSS)/1024, float64(mailRSS)/1024, float64(dbBefore)/(1<<20), float64(dbAfter)/(1<<20))
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// scaleConfig subscribes each room to its own three repositories.
func scaleConfig(s *stack, d *testenv.Dovecot, port int, rooms []id.RoomID, perRoom int) string {
	var subs strings.Builder
	for i, room := range rooms {
		var repos []string
		for j := range perRoom {
			repos = append(repos, scaleRepo(i*perRoom+j))
		}
		fmt.Fprintf(&subs, "    - {rooms: [%q], repos: [%s], events: [issues]}\n", room, strings.Join(repos, ", "))
	}
	return fmt.Sprintf(`matrix:
  homeserver: %s
  user_id: %q
  flood: {commands: 0}
database: %s
http: {listen: "127.0.0.1:%d"}
log: {level: warn, format: json}
prodhash: {svg_url: %q, check_interval: 0}
github:
  api_url: %q
  poll_interval: 0
  aggregation_window: 0
  webhook: {path: /github/webhook, secret: %q, max_concurrent: 16}
  subscriptions:
%smail:
  imap: {address: %q, tls: none, username: %s, password: %s, poll_interval: 1s, noop_interval: 2s}
  list_id: [%s]
  rooms: [%q]
`, s.hs.URL, s.botUser.UserID, s.dbPath, port, s.github.DiagramURL(), s.github.URL, webhookSecret, subs.String(),
		d.Address, d.Username, d.Password, mailList, rooms[0])
}

func scaleRepo(i int) string { return fmt.Sprintf("scale/repo-%03d", i) }

// postBurst posts n signed "issue opened" deliveries spread over the
// repositories, from 8 clients at once.
func postBurst(b *testing.B, hook string, n, repos int) {
	next := make(chan int)
	var wg sync.WaitGroup
	var failed int
	var mu sync.Mutex
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				repo := scaleRepo(i % repos)
				body := delivery(b, "issues.opened.payload.json", func(o map[string]any) {
					o["number"], o["title"] = 1+i/repos, fmt.Sprintf("scale item %d", i)
					o["html_url"] = fmt.Sprintf("https://github.com/%s/issues/%d", repo, 1+i/repos)
				})
				body = []byte(strings.ReplaceAll(string(body), "Codertocat/Hello-World", repo))
				if code := postDelivery(b, hook, "issues", fmt.Sprintf("scale-%d", i), body, sign(body)); code/100 != 2 {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if failed > 0 {
		b.Fatalf("%d of %d deliveries were refused", failed, n)
	}
}

// floorSendRate is how many messages a second a plain mautrix client
// (no store, no queue) gets into the same homeserver, across the rooms.
func floorSendRate(b *testing.B, s *stack, rooms []id.RoomID, n int) float64 {
	ctx := context.Background()
	u, err := s.hs.Register(ctx, "floor", "floor-password-1")
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rooms {
		if _, err := u.JoinRoomByID(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	for i := range n {
		_, err := u.SendMessageEvent(ctx, rooms[i%len(rooms)], event.EventMessage,
			&event.MessageEventContent{MsgType: event.MsgNotice, Body: fmt.Sprintf("floor %d", i)},
			mautrix.ReqSendEvent{TransactionID: fmt.Sprintf("floor-%d", i)})
		if err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

func sentTotal(b *testing.B, p *botProcess) int {
	_, metrics := p.get("/metrics")
	for _, line := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(line, "ibbot_messages_sent_total "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}

func waitSent(b *testing.B, p *botProcess, n int) {
	deadline := time.Now().Add(10 * time.Minute)
	for sentTotal(b, p) < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d messages sent after 10 minutes", sentTotal(b, p), n)
		}
		time.Sleep(200 * time.Millisecond) // /metrics costs the bot CPU too
	}
}

func dbSize(path string) int64 {
	var total int64
	for _, f := range []string{path, path + "-wal"} {
		if info, err := os.Stat(f); err == nil {
			total += info.Size()
		}
	}
	return total
}

// cpuSeconds is the CPU time (user and system) the process has used.
func cpuSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it do not.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // clock ticks (USER_HZ) of 10 ms
}
