package e2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/testenv"
)

// replicaConfig is the config two replicas share: one PostgreSQL
// database, the webhook on each one's operations listener, the production
// leader timings (heartbeat 1s, timeout 5s).
func replicaConfig(s *stack, port int) string {
	return fmt.Sprintf(`matrix:
  homeserver: %s
  user_id: %q
  rooms: [%q]
  flood: {commands: 0}
database: %q
github:
  api_url: %q
  poll_interval: 0
  aggregation_window: 0
  webhook: {path: /github/webhook, secret: %q}
  subscriptions:
    - {rooms: [%q], repos: [Codertocat/Hello-World], events: [issues]}
prodhash: {svg_url: %q}
http:
  listen: 127.0.0.1:%d
log: {level: debug, format: json}
`, s.hs.URL, s.botUser.UserID, s.room, s.dbPath, s.github.URL, webhookSecret, s.room, s.github.DiagramURL(), port)
}

func startReplica(t *testing.T, s *stack) *botProcess {
	t.Helper()
	port := freeTCPPort(t)
	return launch(t, s, port, replicaConfig(s, port))
}

// isLeader reads the replica's ibbot_leader gauge.
func (p *botProcess) isLeader() bool {
	code, metrics := p.get("/metrics")
	return code == http.StatusOK && strings.Contains(metrics, "\nibbot_leader 1\n")
}

// awaitLeader waits until exactly one of the live replicas leads and has
// synced, and returns it.
func awaitLeader(t *testing.T, limit time.Duration, replicas ...*botProcess) *botProcess {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var leaders []*botProcess
		for _, p := range replicas {
			if p.isLeader() {
				leaders = append(leaders, p)
			}
		}
		if len(leaders) > 1 {
			t.Fatalf("%d replicas lead at once", len(leaders))
		}
		if len(leaders) == 1 {
			if code, body := leaders[0].get("/readyz"); code == http.StatusOK && strings.Contains(body, "leader") {
				return leaders[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replica led within %s", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func other(p *botProcess, of ...*botProcess) *botProcess {
	for _, q := range of {
		if q != p {
			return q
		}
	}
	return nil
}

// timedPing sends !ping and returns how long the answer took.
func timedPing(t *testing.T, s *stack, limit time.Duration) (id.EventID, time.Duration) {
	t.Helper()
	start := time.Now()
	cmd := s.human.MustSay(t, s.room, "!ping")
	s.human.MustWait(t, limit, "answer to "+cmd.String(), testenv.ReplyTo(cmd))
	return cmd, time.Since(start)
}

// TestTwoReplicas runs two `ibbot run` processes on one PostgreSQL
// database and one Dendrite: one answers each command; 500 webhooks sent
// alternately to both each reach the room once, also when the leader is
// killed in the middle of them; a command sent during that failover is
// answered once; a frozen leader, woken after it was replaced, sends
// nothing. It measures the failover time (kill to answer) over six kills.
func TestTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two bot processes and kills them")
	}
	pg := testenv.NewPostgres(t)
	s := newStack(t)
	s.dbPath = pg.EmptyDB(t)
	replicas := []*botProcess{startReplica(t, s), startReplica(t, s)}
	lead := awaitLeader(t, wait, replicas...)
	if code, body := other(lead, replicas...).get("/readyz"); code != http.StatusOK || !strings.Contains(body, "standby") {
		t.Errorf("the standby's /readyz: %d %q, want 200 standby", code, body)
	}

	var commands []id.EventID
	for range 5 {
		cmd, _ := timedPing(t, s, wait)
		commands = append(commands, cmd)
	}

	var failovers []time.Duration
	accepted, failover, cmd := burstWithAKill(t, s, replicas, lead)
	failovers = append(failovers, failover)
	commands = append(commands, cmd)
	t.Logf("burst: %d of 500 deliveries accepted across a leader's SIGKILL; failover %s", accepted, failover)

	live := slices.DeleteFunc(slices.Clone(replicas), func(p *botProcess) bool { return p == lead })
	for range 5 {
		live = append(live, startReplica(t, s))
		lead = awaitLeader(t, wait, live...)
		s.settle(t) // the burst's backlog is sent: the failover is measured alone
		lead.cmd.Process.Signal(syscall.SIGKILL)
		killed := time.Now()
		cmd, took := timedPing(t, s, wait)
		if took > 3*time.Second {
			t.Logf("slow failover %s, killed at %s; the others' logs:", took, killed.Format(time.RFC3339Nano))
			for _, p := range live {
				if p != lead {
					t.Log(p.logs.String())
				}
			}
		}
		failovers = append(failovers, took)
		commands = append(commands, cmd)
		live = slices.DeleteFunc(live, func(p *botProcess) bool { return p == lead })
	}
	slices.Sort(failovers)
	t.Logf("failover after SIGKILL (kill to answer), %d kills: p50 %s, max %s, all %v",
		len(failovers), failovers[len(failovers)/2], failovers[len(failovers)-1], failovers)
	if worst := failovers[len(failovers)-1]; worst > 15*time.Second {
		t.Errorf("a failover took %s, over the 15 s target", worst)
	}

	live = append(live, startReplica(t, s))
	frozenLeaderSendsNothing(t, s, live)

	s.settle(t)
	for _, cmd := range commands {
		if n := s.human.Count(testenv.ReplyTo(cmd)); n != 1 {
			t.Errorf("command %s answered %d times, want once", cmd, n)
		}
	}
	seen := issuesInRoom(s)
	for n := 1000; n < 1500; n++ {
		if seen[n] != 1 {
			t.Errorf("delivery %d is in the room %d times, want once", n, seen[n])
		}
	}
}

// burstWithAKill sends 500 deliveries alternately to the two replicas,
// like a load balancer (one that tries the other replica when one does
// not answer), and SIGKILLs the leader halfway. It returns how many were
// accepted, and the failover time: from the kill to the answer to a
// command sent right after it.
func burstWithAKill(t *testing.T, s *stack, replicas []*botProcess, lead *botProcess) (int, time.Duration, id.EventID) {
	t.Helper()
	const total = 500
	client := &http.Client{Timeout: 10 * time.Second}
	var accepted sync.Map
	next := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body := delivery(t, "issues.opened.payload.json", numbered(1000+i, fmt.Sprintf("replica item %d", i)))
				for try := range 2 {
					url := replicas[(i+try)%2].httpURL + "/github/webhook"
					code, err := testenv.DeliverWebhook(context.Background(), client, url, "issues", fmt.Sprintf("replica-%d", i), sign(body), body)
					if err == nil && code >= 200 && code < 300 {
						accepted.Store(i, true)
						break
					}
				}
			}
		}()
	}
	var failover time.Duration
	var cmd id.EventID
	for i := range total {
		if i == total/2 {
			lead.cmd.Process.Signal(syscall.SIGKILL)
			cmd, failover = timedPing(t, s, wait)
		}
		next <- i
	}
	close(next)
	wg.Wait()
	n := 0
	accepted.Range(func(_, _ any) bool { n++; return true })
	if n != total {
		t.Errorf("%d of %d deliveries accepted: the living replica should take every one", n, total)
	}
	return n, failover, cmd
}

var replicaItem = regexp.MustCompile(`^Codertocat/Hello-World#(\d+) `)

// issuesInRoom counts, per issue number, the announcements in the room.
func issuesInRoom(s *stack) map[int]int {
	seen := map[int]int{}
	for _, e := range s.human.Events() {
		if !isNotice(e) || e.Content.AsMessage().RelatesTo != nil {
			continue
		}
		if m := replicaItem.FindStringSubmatch(testenv.Body(e)); m != nil {
			n, _ := strconv.Atoi(m[1])
			seen[n]++
		}
	}
	return seen
}

// frozenLeaderSendsNothing freezes the leader (SIGSTOP) with work in hand,
// lets the standby take over, then wakes it (SIGCONT): it must send
// nothing, and stop.
func frozenLeaderSendsNothing(t *testing.T, s *stack, live []*botProcess) {
	t.Helper()
	lead := awaitLeader(t, wait, live...)
	standby := other(lead, live...)
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range 20 {
		body := delivery(t, "issues.opened.payload.json", numbered(2000+i, fmt.Sprintf("frozen item %d", i)))
		testenv.DeliverWebhook(context.Background(), client, lead.httpURL+"/github/webhook", "issues", fmt.Sprintf("frozen-%d", i), sign(body), body)
	}
	lead.cmd.Process.Signal(syscall.SIGSTOP)
	cmd, took := timedPing(t, s, wait)
	t.Logf("a frozen leader (SIGSTOP) was replaced: command answered %s after the freeze", took)
	// leader.timeout is 5s (measured: about 4.1 s here); three seconds
	// more for a loaded CI machine, whose bot takes longer to start.
	if took > 8*time.Second {
		t.Errorf("the command took %s after the freeze, over leader.timeout", took)
	}
	if !standby.isLeader() {
		t.Fatal("the standby answered without leading")
	}
	time.Sleep(200 * time.Millisecond)
	before := len(lead.logs.String())
	lead.cmd.Process.Signal(syscall.SIGCONT)
	select {
	case err := <-lead.exited:
		if err == nil {
			t.Error("the woken leader exited with status 0, want an error (leadership lost)")
		}
	case <-time.After(wait):
		t.Fatal("the woken leader did not stop")
	}
	after := lead.logs.String()[before:]
	for _, line := range strings.Split(after, "\n") {
		// "Sent" may end a request made before the freeze; "Sending"
		// starts one.
		if strings.Contains(line, `"message":"Sending"`) {
			t.Errorf("the woken leader sent something: %s", line)
		}
	}
	if !strings.Contains(after, "Leadership lost") {
		t.Errorf("the woken leader does not say it lost leadership:\n%s", after)
	}
	s.settle(t)
	if n := s.human.Count(testenv.ReplyTo(cmd)); n != 1 {
		t.Errorf("the command sent while the leader was frozen was answered %d times", n)
	}
	seen := issuesInRoom(s)
	for n := 2000; n < 2020; n++ {
		if seen[n] != 1 {
			t.Errorf("delivery %d (sent to the frozen leader) is in the room %d times, want once", n, seen[n])
		}
	}
}
