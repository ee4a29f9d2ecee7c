// Package intake reads the bodies of requests that prove who sent them
// only once the whole body is in (a webhook signed over its body), so that
// a client that does not know the secret can hold little memory, little
// time and no worker:
//
//   - a body over the size limit is refused by its Content-Length before a
//     byte is read, or as soon as it grows past the limit;
//   - every byte held for a body not yet verified counts against one budget
//     shared by all clients; a request that finds the budget spent waits a
//     little (holding no memory: the attack bodies ahead of it end fast,
//     refused or cut off) and is then refused;
//   - each client (its address, or the one a trusted proxy forwards) has a
//     few unverified requests at once, so one client cannot spend the budget;
//   - a body must arrive within a few seconds and, after a short grace, at a
//     minimum average rate, so a slow sender is cut off early.
//
// Every byte is handed to the caller's hash as it arrives (HMAC-SHA256 is
// incremental), so the caller checks a signature without reading the body
// twice.
package intake

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// Limits bound what unverified requests may hold.
type Limits struct {
	MaxBody   int64         // bytes in one body
	Budget    int64         // bytes held for unverified bodies, all clients together
	PerClient int           // unverified requests of one client at once
	Grace     time.Duration // before MinRate applies
	MinRate   int64         // bytes per second, averaged from the body's start
	Timeout   time.Duration // for a whole body
	Wait      time.Duration // for budget to free, before reading a byte
}

// DefaultLimits are the limits for bodies of up to maxBody bytes. GitHub
// sends a delivery at once and gives up on it after 10 s, so a body still
// arriving after 5 s, or slower than 16 KiB/s after the first second, is
// not GitHub's. The budget holds at least two full bodies and at least
// 16 MiB, enough for a burst of real deliveries (tens of KiB each).
func DefaultLimits(maxBody int64) Limits {
	return Limits{
		MaxBody:   maxBody,
		Budget:    max(16<<20, 2*maxBody),
		PerClient: 4,
		Grace:     time.Second,
		MinRate:   16 << 10,
		Timeout:   5 * time.Second,
		Wait:      3 * time.Second,
	}
}

// firstPart is the most of a body reserved before its bytes have come.
const firstPart = 64 << 10

// Guard applies Limits across every request it reads.
type Guard struct {
	limits  Limits
	budget  *semaphore.Weighted
	proxies []netip.Prefix
	now     func() time.Time

	mu      sync.Mutex
	clients map[string]int // unverified requests being read, per client
}

// New makes a Guard; trusted are the proxies whose X-Forwarded-For names
// the client (an OpenShift router, a reverse proxy), nil for none.
func New(l Limits, trusted []netip.Prefix, now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{limits: l, budget: semaphore.NewWeighted(l.Budget), proxies: trusted, now: now, clients: map[string]int{}}
}

// Refusal is why a body was not taken: the status and text for the client
// and a short outcome for metrics and logs.
type Refusal struct {
	Status  int
	Outcome string
	Text    string
}

func (r *Refusal) Error() string { return r.Outcome + ": " + r.Text }

var (
	errTooMany  = &Refusal{http.StatusTooManyRequests, "too_many", "too many unverified requests from your address at once"}
	errBusy     = &Refusal{http.StatusServiceUnavailable, "busy", "too many bodies being received; try again later"}
	errTooLarge = &Refusal{http.StatusRequestEntityTooLarge, "too_large", "the body is over the size limit"}
	errTooSlow  = &Refusal{http.StatusRequestTimeout, "too_slow", "the body arrived too slowly"}
	errBroken   = &Refusal{http.StatusBadRequest, "broken_body", "the body could not be read"}
)

// Body is a body read in full. Its bytes count against the budget until
// Release, which the caller calls once it no longer holds them.
type Body struct {
	Bytes []byte
	g     *Guard
	held  int64
	once  sync.Once
}

// Release returns the body's bytes to the budget.
func (b *Body) Release() {
	b.once.Do(func() { b.g.budget.Release(b.held) })
}

// Read reads r's body under the limits, writing each byte to sum as it
// arrives. The error, if any, is a *Refusal; the connection is then closed
// after the answer, so an unread remainder is never drained.
func (g *Guard) Read(w http.ResponseWriter, r *http.Request, sum io.Writer) (*Body, error) {
	body, err := g.read(w, r, sum)
	if err != nil {
		w.Header().Set("Connection", "close")
	}
	return body, err
}

func (g *Guard) read(w http.ResponseWriter, r *http.Request, sum io.Writer) (*Body, error) {
	client := g.Client(r)
	if !g.enter(client) {
		return nil, errTooMany
	}
	defer g.leave(client)
	if r.ContentLength > g.limits.MaxBody {
		return nil, errTooLarge
	}
	reader := &bodyReader{g: g, rc: http.NewResponseController(w), r: r.Body, start: g.now(), length: r.ContentLength}
	// The first part of a body may wait for budget; a real delivery fits
	// in it. Growing past it never waits, so bodies holding part of the
	// budget never wait on each other: one that cannot grow is refused.
	initial := min(firstPart, g.limits.MaxBody)
	if r.ContentLength >= 0 {
		initial = min(initial, r.ContentLength)
	}
	if !g.reserve(r.Context(), initial) {
		return nil, errBusy
	}
	b := &Body{g: g, held: initial, Bytes: make([]byte, 0, initial)}
	if err := reader.readAll(b, sum); err != nil {
		b.Release()
		return nil, err
	}
	// Reset the deadline the reader set, so writing the answer is not cut.
	reader.rc.SetReadDeadline(time.Time{})
	return b, nil
}

// reserve takes n bytes of the budget, waiting up to Limits.Wait.
func (g *Guard) reserve(ctx context.Context, n int64) bool {
	if g.budget.TryAcquire(n) {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, g.limits.Wait)
	defer cancel()
	return g.budget.Acquire(ctx, n) == nil
}

// Client is the address a request comes from: the peer's, or, when the
// peer is a trusted proxy, the nearest untrusted address in
// X-Forwarded-For (the right-most one: a client can prepend anything).
func (g *Guard) Client(r *http.Request) string {
	peer := peerAddr(r.RemoteAddr)
	if !g.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: trust nothing before it
		}
		if !g.trusted(hop.Unmap()) {
			return hop.Unmap().String()
		}
	}
	return peer.String()
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func (g *Guard) trusted(a netip.Addr) bool {
	for _, p := range g.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (g *Guard) enter(client string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.clients[client] >= g.limits.PerClient {
		return false
	}
	g.clients[client]++
	return true
}

func (g *Guard) leave(client string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.clients[client]--; g.clients[client] <= 0 {
		delete(g.clients, client)
	}
}

// bodyReader reads one body with a deadline that moves forward only as
// fast as the minimum rate allows.
type bodyReader struct {
	g      *Guard
	rc     *http.ResponseController
	r      io.Reader
	start  time.Time
	read   int64
	length int64 // the declared Content-Length, -1 if none
}

func (br *bodyReader) readAll(b *Body, sum io.Writer) error {
	for {
		if len(b.Bytes) == cap(b.Bytes) {
			if br.length >= 0 && br.read >= br.length {
				return nil // all of the declared length (net/http never gives more)
			}
			if err := br.grow(b); err != nil {
				return err
			}
		}
		br.rc.SetReadDeadline(br.deadline()) // unsupported (not a real connection): the server's timeouts remain
		n, err := br.r.Read(b.Bytes[len(b.Bytes):cap(b.Bytes)])
		if n > 0 {
			sum.Write(b.Bytes[len(b.Bytes) : len(b.Bytes)+n])
			b.Bytes = b.Bytes[:len(b.Bytes)+n]
			br.read += int64(n)
		}
		switch {
		case br.read > br.g.limits.MaxBody:
			return errTooLarge
		case errors.Is(err, io.EOF):
			return nil
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
			return errTooSlow
		case isTooLarge(err):
			return errTooLarge
		default:
			return errBroken
		}
		if br.g.now().After(br.start.Add(br.g.limits.Timeout)) {
			return errTooSlow
		}
	}
}

// grow makes room for more of a body, spending budget first without
// waiting; past MaxBody (or the declared length) there is no more room.
func (br *bodyReader) grow(b *Body) error {
	limit := br.g.limits.MaxBody + 1 // one byte more tells a body over the limit
	if br.length >= 0 {
		limit = br.length
	}
	if int64(cap(b.Bytes)) >= limit {
		return errTooLarge
	}
	want := min(max(2*int64(cap(b.Bytes)), 4<<10), limit)
	if !br.g.budget.TryAcquire(want - b.held) {
		return errBusy
	}
	b.held = want
	bigger := make([]byte, len(b.Bytes), want)
	copy(bigger, b.Bytes)
	b.Bytes = bigger
	return nil
}

// deadline is when the bytes read so far must be followed by more: the
// grace plus the time MinRate allows for them, never past Timeout.
func (br *bodyReader) deadline() time.Time {
	l := br.g.limits
	allowed := l.Grace
	if l.MinRate > 0 {
		allowed += time.Duration(br.read * int64(time.Second) / l.MinRate)
	}
	// A socket's deadline is wall-clock time: the injected clock says how
	// much is left, time.Now where that ends (a clock set elsewhere would
	// put the deadline in the past and refuse every body).
	left := br.start.Add(min(allowed, l.Timeout)).Sub(br.g.now())
	return time.Now().Add(left)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}
