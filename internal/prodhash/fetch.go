package prodhash

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// document is a remote file fetched with conditional requests and kept for
// a TTL, so warm lookups cost no network at all and refreshes cost a 304.
type document struct {
	url    string
	header http.Header // extra request headers (auth)
	client *http.Client
	ttl    time.Duration
	now    func() time.Time
	limit  int64

	mu           sync.Mutex
	body         []byte
	etag         string
	lastModified string
	checked      time.Time
	version      int // increases when the body changes
}

type revalidateKey struct{}

// Revalidating returns a context under which lookups ask the server again
// about every document last checked before since, whatever its TTL. The
// question is a conditional request: free when nothing changed. Deploy
// checks use it, so they never announce from a cached diagram.
func Revalidating(ctx context.Context, since time.Time) context.Context {
	return context.WithValue(ctx, revalidateKey{}, since)
}

func (d *document) fresh(ctx context.Context) bool {
	if d.body == nil || d.now().Sub(d.checked) >= d.ttl {
		return false
	}
	since, ok := ctx.Value(revalidateKey{}).(time.Time)
	return !ok || !d.checked.Before(since)
}

// get returns the body, refreshing it when older than the TTL (or than
// the context's Revalidating time). version increases when the body changes.
func (d *document) get(ctx context.Context) (body []byte, version int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fresh(ctx) {
		return d.body, d.version, nil
	}
	if err := d.refresh(ctx); err != nil {
		return nil, d.version, err
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
	if d.body != nil {
		if d.etag != "" {
			req.Header.Set("If-None-Match", d.etag)
		}
		if d.lastModified != "" {
			req.Header.Set("If-Modified-Since", d.lastModified)
		}
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && d.body != nil:
		d.checked = d.now()
		return nil
	case resp.StatusCode != http.StatusOK:
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
	d.body, d.etag, d.lastModified = body, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
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
