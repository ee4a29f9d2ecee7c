// Package httpcache is the one conditional-request cache ibbot has: a
// transport that remembers each GET's answer with its ETag or
// Last-Modified, asks again with If-None-Match / If-Modified-Since, and
// answers a 304 from memory. The GitHub API client and the documents the
// production-hash sources read (the diagram, JSON files) share it, so a
// repeated look costs a 304: nothing against GitHub's rate limit, a few
// bytes elsewhere.
package httpcache

import (
	"bytes"
	"container/list"
	"io"
	"net/http"
	"sync"
)

// FromCacheHeader marks an answer rebuilt from the cache after a 304;
// go-github reads it to leave its rate-limit state alone.
const FromCacheHeader = "X-From-Cache"

// maxBody keeps huge responses out of memory; they pass uncached.
const maxBody = 4 << 20

// Transport makes repeated GETs conditional.
type Transport struct {
	next  http.RoundTripper
	cache *lru
	// Refresh lists headers a 304 may update in the remembered answer
	// (rate-limit counters, Date).
	refresh []string
}

// New wraps next (nil: http.DefaultTransport) with a cache of up to
// entries answers; a 304's headers named in refresh replace the
// remembered ones.
func New(next http.RoundTripper, entries int, refresh ...string) *Transport {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Transport{next: next, cache: newLRU(max(entries, 1)), refresh: append(refresh, "Date")}
}

type entry struct {
	etag, lastModified string
	status             int
	header             http.Header
	body               []byte
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return t.next.RoundTrip(req)
	}
	key := req.URL.String()
	prev, hit := t.cache.get(key)
	if hit {
		req = req.Clone(req.Context())
		if prev.etag != "" {
			req.Header.Set("If-None-Match", prev.etag)
		}
		if prev.lastModified != "" {
			req.Header.Set("If-Modified-Since", prev.lastModified)
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && hit:
		resp.Body.Close()
		return prev.response(req, resp.Header, t.refresh), nil
	case resp.StatusCode == http.StatusOK && (resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != ""):
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(body) <= maxBody {
			t.cache.put(key, &entry{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified"),
				status: resp.StatusCode, header: resp.Header.Clone(), body: body})
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

// response rebuilds the remembered answer, with the 304's fresh values of
// the refresh headers.
func (e *entry) response(req *http.Request, fresh http.Header, refresh []string) *http.Response {
	h := e.header.Clone()
	for _, k := range refresh {
		if v := fresh.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	h.Set(FromCacheHeader, "1")
	return &http.Response{
		Status: "200 OK", StatusCode: e.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(e.body)), ContentLength: int64(len(e.body)), Request: req,
	}
}

// FromCache reports whether resp was answered by a 304.
func FromCache(resp *http.Response) bool {
	return resp != nil && resp.Header.Get(FromCacheHeader) != ""
}

// lru is a small, locked least-recently-used map.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[string]*list.Element
}

type lruItem struct {
	key string
	val *entry
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

func (l *lru) get(key string) (*entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[key]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*lruItem).val, true
	}
	return nil, false
}

func (l *lru) put(key string, val *entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[key]; ok {
		e.Value.(*lruItem).val = val
		l.order.MoveToFront(e)
		return
	}
	l.items[key] = l.order.PushFront(&lruItem{key, val})
	if l.order.Len() > l.max {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.items, oldest.Value.(*lruItem).key)
	}
}
