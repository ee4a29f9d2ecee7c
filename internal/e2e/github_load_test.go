package e2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

var itemRef = regexp.MustCompile(`^Codertocat/Hello-World#(\d+) `)

// TestThousandDeliveriesAcrossARestart sends 1,000 signed deliveries as
// fast as loopback allows, restarting the bot in the middle: every
// delivery answered 2xx must be in the room exactly once. It reports the
// p99 time to the 2xx answer. It runs on SQLite and on PostgreSQL, whose
// connection pool lets the deliveries really run concurrently.
func TestThousandDeliveriesAcrossARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 1,000 deliveries")
	}
	onBothDatabases(t, thousandDeliveries)
}

func thousandDeliveries(t *testing.T, s *stack) {
	port := freeTCPPort(t)
	cfg := s.config(s.hs.URL)
	cfg.HTTP.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.GitHub.Webhook = config.Webhook{Path: "/github/webhook", Secret: config.NewSecret(webhookSecret)}
	cfg.GitHub.AggregationWindow = 0
	cfg.GitHub.PollInterval = 0
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{s.room.String()}, Repos: []string{"Codertocat/Hello-World"}, Events: []config.Event{config.EventIssues}}}
	hook := fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)

	const total, workers = 1000, 8
	bodies := make([][]byte, total)
	for i := range bodies {
		bodies[i] = delivery(t, "issues.opened.payload.json", numbered(1000+i, fmt.Sprintf("load item %d", i)))
	}
	first := startBot(t, cfg)

	var (
		mu        sync.Mutex
		accepted  []int
		latencies []time.Duration
		next      = make(chan int)
	)
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				code, err := postOnce(client, hook, i, bodies[i])
				if err == nil && code >= 200 && code < 300 {
					mu.Lock()
					accepted = append(accepted, 1000+i)
					latencies = append(latencies, time.Since(start))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range total {
		if i == total/2 {
			if err := first.stop(); err != nil {
				t.Errorf("stopping mid-load: %v", err)
			}
			startBot(t, cfg)
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if len(accepted) < total/2 {
		t.Fatalf("only %d of %d deliveries were accepted", len(accepted), total)
	}

	isRoot := func(e *event.Event) bool {
		return isNotice(e) && e.Content.AsMessage().RelatesTo == nil && itemRef.MatchString(testenv.Body(e))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := s.human.WaitCount(ctx, len(accepted), isRoot); err != nil {
		t.Fatal(err)
	}
	s.settle(t)
	seen := map[int]int{}
	for _, e := range s.human.Events() {
		if isRoot(e) {
			n, _ := strconv.Atoi(itemRef.FindStringSubmatch(testenv.Body(e))[1])
			seen[n]++
		}
	}
	for _, n := range accepted {
		if seen[n] != 1 {
			t.Errorf("accepted item %d is in the room %d times, want 1", n, seen[n])
		}
	}
	for n, c := range seen {
		if c > 1 {
			t.Errorf("item %d posted %d times", n, c)
		}
	}
	slices.Sort(latencies)
	p := func(q float64) time.Duration { return latencies[min(len(latencies)-1, int(float64(len(latencies))*q))] }
	t.Logf("%d of %d deliveries accepted across a restart; time to 2xx p50 %s, p99 %s, max %s",
		len(accepted), total, p(0.5), p(0.99), latencies[len(latencies)-1])
}

// postOnce posts one delivery, like GitHub: one try, no retry.
func postOnce(c *http.Client, url string, i int, body []byte) (int, error) {
	return testenv.DeliverWebhook(context.Background(), c, url, "issues", fmt.Sprintf("load-%d", i), sign(body), body)
}
