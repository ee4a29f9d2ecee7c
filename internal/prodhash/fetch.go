package prodhash

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/osbuild/ibbot/internal/httpcache"
)

// document is a remote file kept for a TTL, so warm lookups cost no
// network at all; its client's transport (httpcache) turns each refresh
// into a conditional request, which costs a 304 when nothing changed.
type document struct {
	url    string
	header http.Header // extra request headers (auth)
	client *http.Client
	ttl    time.Duration
	now    func() time.Time
	limit  int64

	mu           sync.Mutex
	body         []byte
	lastModified string
	checked      time.Time
	version      int    // increases when the body changes
	round        *round // the revalidating round it was last asked for in
}

// cachingClient is hc with the shared conditional-request cache in front
// of its transport (unless it has one already).
func cachingClient(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	if _, ok := hc.Transport.(*httpcache.Transport); ok {
		return hc
	}
	c := *hc
	c.Transport = httpcache.New(hc.Transport, 8)
	return &c
}

type revalidateKey struct{}

// round identifies one revalidating round (a pointer: each is unique).
type round struct{ _ byte }

// Revalidating returns a context under which each document is asked for
// again once (the first lookup of it in this round), whatever its TTL:
// a conditional request, free when nothing changed. Deploy checks use it,
// so they never announce from a cached diagram. Rounds are told apart by
// identity, not by time, so a clock that stands still (a test's) cannot
// make a round look fresh.
func Revalidating(ctx context.Context) context.Context {
	return context.WithValue(ctx, revalidateKey{}, &round{})
}

func (d *document) fresh(ctx context.Context) bool {
	if d.body == nil || d.now().Sub(d.checked) >= d.ttl {
		return false
	}
	r, ok := ctx.Value(revalidateKey{}).(*round)
	return !ok || r == d.round
}

// get returns the body, refreshing it when older than the TTL (and once
// per revalidating round). version increases when the body changes.
func (d *document) get(ctx context.Context) (body []byte, version int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fresh(ctx) {
		return d.body, d.version, nil
	}
	if err := d.refresh(ctx); err != nil {
		return nil, d.version, err
	}
	if r, ok := ctx.Value(revalidateKey{}).(*round); ok {
		d.round = r
	}
	return d.body, d.version, nil
}

func (d *document) refresh(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return err
	}
	for k, v := range d.header {
		req.Header[k] = v
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, d.limit+1))
	if err != nil {
		return err
	}
	if int64(len(body)) > d.limit {
		return fmt.Errorf("%s sent more than %d bytes", req.URL.Host, d.limit)
	}
	if string(body) != string(d.body) {
		d.version++
	}
	d.body, d.lastModified = body, resp.Header.Get("Last-Modified")
	d.checked = d.now()
	return nil
}

// lastModifiedTime is the server's Last-Modified, or zero.
func (d *document) lastModifiedTime() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, _ := http.ParseTime(d.lastModified)
	return t
}
