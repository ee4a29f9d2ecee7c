package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osbuild/ibbot/internal/testenv"
)

// An attack runs against the webhook at url until ctx ends. Attackers
// connect from loopback addresses other than 127.0.0.1 (Linux routes all
// of 127/8 to lo), so they are other clients than GitHub.
type attack struct {
	name string
	run  func(ctx context.Context, url string)
}

var attacks = []attack{
	{"slow fake-signed bodies", slowFakeBodies},
	{"large fake-signed bodies", largeFakeBodies},
	{"slowloris on headers", slowHeaders},
}

// fakeSignature is well-formed, so only the body's MAC can refute it.
var fakeSignature = "sha256=" + strings.Repeat("5a", 32)

// attacker is a client on loopback address 127.0.N.M.
func attacker(n, m int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte(n), byte(m))}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// slowFakeBodies: 200 connections from 50 addresses, each declaring a
// 1 MB body under a wrong signature and sending it a byte at a time; a
// connection cut off is opened again.
func slowFakeBodies(ctx context.Context, url string) {
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			c := attacker(3, 1+i%50)
			for ctx.Err() == nil {
				fakePost(ctx, c, url, &trickle{ctx: ctx, gap: 100 * time.Millisecond}, 1<<20)
			}
		})
	}
	wg.Wait()
}

// largeFakeBodies: 64 connections from 16 addresses, each posting 24 MB
// as fast as loopback allows under a wrong signature, half declaring
// the length and half chunked.
func largeFakeBodies(ctx context.Context, url string) {
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			c := attacker(4, 1+i%16)
			length := int64(24 << 20)
			if i%2 == 1 {
				length = -1
			}
			for ctx.Err() == nil {
				fakePost(ctx, c, url, io.LimitReader(zeros{}, 24<<20), length)
			}
		})
	}
	wg.Wait()
}

// slowHeaders: 200 connections from 50 addresses that send a request
// line and then a header byte every half second, never ending the
// headers; a connection closed is opened again.
func slowHeaders(ctx context.Context, url string) {
	host := strings.TrimPrefix(strings.SplitN(url, "/github", 2)[0], "http://")
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 5, byte(1+i%50))}}
			for ctx.Err() == nil {
				conn, err := d.DialContext(ctx, "tcp", host)
				if err != nil {
					return
				}
				fmt.Fprintf(conn, "POST /github/webhook HTTP/1.1\r\nHost: %s\r\nX-Hub-Signature-256: %s\r\n", host, fakeSignature)
				for ctx.Err() == nil {
					if _, err := conn.Write([]byte("X")); err != nil {
						break
					}
					select {
					case <-ctx.Done():
					case <-time.After(500 * time.Millisecond):
					}
				}
				conn.Close()
			}
		})
	}
	wg.Wait()
}

func fakePost(ctx context.Context, c *http.Client, url string, body io.Reader, length int64) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issues")
	req.Header.Set("X-GitHub-Delivery", "fake")
	req.Header.Set("X-Hub-Signature-256", fakeSignature)
	if resp, err := c.Do(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	} else {
		select { // refused mid-body: try again a moment later
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// trickle is an endless body, a byte every gap.
type trickle struct {
	ctx context.Context
	gap time.Duration
}

func (t *trickle) Read(p []byte) (int, error) {
	select {
	case <-t.ctx.Done():
		return 0, t.ctx.Err()
	case <-time.After(t.gap):
	}
	p[0] = '{'
	return 1, nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// siege is what genuine deliveries met during an attack.
type siege struct {
	accepted  []int // item numbers answered 2xx
	refused   []string
	latencies []time.Duration
	maxRSS    int // kB
}

// besiege runs a (nil: no attack) for as long as it takes to send n
// genuine deliveries, one every 200 ms, numbered from first, sampling the
// process's resident memory meanwhile.
func besiege(t testing.TB, p *botProcess, url string, a *attack, first, n int) siege {
	ctx, cancel := context.WithCancel(context.Background())
	var attackers sync.WaitGroup
	if a != nil {
		attackers.Go(func() { a.run(ctx, url) })
	}
	var out siege
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for ctx.Err() == nil {
			if kb, err := rssKB(p.cmd.Process.Pid); err == nil {
				out.maxRSS = max(out.maxRSS, kb)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(2 * time.Second)                        // the attack in full swing before GitHub delivers
	genuine := &http.Client{Timeout: 10 * time.Second} // GitHub's own timeout
	for i := first; i < first+n; i++ {
		body := delivery(t, "issues.opened.payload.json", numbered(i, fmt.Sprintf("genuine %d", i)))
		start := time.Now()
		code, err := testenv.DeliverWebhook(context.Background(), genuine, url, "issues", fmt.Sprintf("genuine-%d", i), sign(body), body)
		switch {
		case err != nil:
			out.refused = append(out.refused, fmt.Sprintf("#%d: %v", i, err))
		case code/100 != 2:
			out.refused = append(out.refused, fmt.Sprintf("#%d: %d", i, code))
		default:
			out.accepted = append(out.accepted, i)
			out.latencies = append(out.latencies, time.Since(start))
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	attackers.Wait()
	<-sampled
	return out
}

// TestWebhookUnderAttack: during each attack a client without the secret
// can mount from outside, GitHub's genuine deliveries are all accepted
// and each reaches the room once, and the process's memory stays under
// 128 MB. It runs the real binary on Dendrite.
func TestWebhookUnderAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("attacks the real binary")
	}
	s := newStack(t)
	p, url := startWebhookProcess(t, s)
	idle, _ := rssKB(p.cmd.Process.Pid)
	for i, a := range attacks {
		got := besiege(t, p, url, &a, 100*(i+1), 10)
		if len(got.refused) > 0 {
			t.Errorf("%s: genuine deliveries refused: %v", a.name, got.refused)
		}
		if got.maxRSS > 128<<10 {
			t.Errorf("%s: resident memory reached %d MB, over 128 MB", a.name, got.maxRSS>>10)
		}
		slices.Sort(got.latencies)
		t.Logf("%s: %d genuine accepted, time to 2xx p50 %s max %s; RSS idle %d MB, max %d MB",
			a.name, len(got.accepted), percentile(got.latencies, 0.5), got.latencies[len(got.latencies)-1], idle>>10, got.maxRSS>>10)
		expectOnce(t, s, got.accepted)
	}
}

// expectOnce waits until every accepted item is in the room, then checks
// none is there twice.
func expectOnce(t *testing.T, s *stack, numbers []int) {
	t.Helper()
	for _, n := range numbers {
		s.human.MustWait(t, wait, fmt.Sprintf("item #%d", n), aboutItem(fmt.Sprintf("Codertocat/Hello-World#%d", n)))
	}
	s.settle(t)
	seen := map[int]int{}
	for _, e := range s.human.Events() {
		if isNotice(e) && e.Content.AsMessage().RelatesTo == nil {
			if m := itemRef.FindStringSubmatch(testenv.Body(e)); m != nil {
				n, _ := strconv.Atoi(m[1])
				seen[n]++
			}
		}
	}
	for _, n := range numbers {
		if seen[n] != 1 {
			t.Errorf("item #%d is in the room %d times, want once", n, seen[n])
		}
	}
}

// startWebhookProcess runs `ibbot run` with a webhook relaying issues of
// Codertocat/Hello-World into the stack's room; it returns the webhook's
// address.
func startWebhookProcess(t testing.TB, s *stack) (*botProcess, string) {
	port := freeTCPPort(t)
	p := launch(t, s, port, fmt.Sprintf(`matrix:
  homeserver: %s
  user_id: %q
  rooms: [%q]
  flood: {commands: 0}
database: %s
github:
  api_url: %q
  poll_interval: 0
  aggregation_window: 0
  webhook: {path: /github/webhook, secret: %q}
  subscriptions:
    - {rooms: [%q], repos: [Codertocat/Hello-World], events: [issues]}
prodhash: {svg_url: %q}
http: {listen: "127.0.0.1:%d"}
log: {level: info, format: json}
`, s.hs.URL, s.botUser.UserID, s.room, s.dbPath, s.github.URL, webhookSecret, s.room, s.github.DiagramURL(), port))
	return p, p.httpURL + "/github/webhook"
}

// BenchmarkWebhookUnderAttack reports the time to a genuine delivery's
// 2xx during each attack against the same without one, in one run:
// go test -tags goolm ./internal/e2e -run '^$' -bench WebhookUnderAttack -benchtime 1x
func BenchmarkWebhookUnderAttack(b *testing.B) {
	s := newStack(b)
	p, url := startWebhookProcess(b, s)
	const n = 25
	for range b.N {
		calm := besiege(b, p, url, nil, 1000, n)
		base := percentile(calm.latencies, 0.5)
		b.ReportMetric(float64(base.Microseconds())/1000, "calm-p50-ms")
		for i, a := range attacks {
			got := besiege(b, p, url, &a, 2000+1000*i, n)
			if len(got.refused) > 0 {
				b.Errorf("%s: refused %v", a.name, got.refused)
			}
			p50, p99 := percentile(got.latencies, 0.5), percentile(got.latencies, 0.99)
			key := strings.ReplaceAll(strings.Fields(a.name)[0], "-", "")
			b.ReportMetric(float64(p50)/float64(base), key+"-p50-ratio")
			b.Logf("%s: p50 %s (×%.2f of calm %s), p99 %s, max RSS %d MB", a.name, p50, float64(p50)/float64(base), base, p99, got.maxRSS>>10)
		}
	}
}
