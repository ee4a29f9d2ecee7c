package httpcache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestRepeatedGetIsConditional: the second GET asks with the ETag, gets a
// 304, and the caller still reads the body, marked as from the cache.
func TestRepeatedGetIsConditional(t *testing.T) {
	var full, notModified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, "the diagram")
	}))
	defer srv.Close()
	c := &http.Client{Transport: New(nil, 4)}
	for i := range 3 {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "the diagram" || resp.StatusCode != http.StatusOK || FromCache(resp) != (i > 0) {
			t.Errorf("GET %d: %d %q from cache %v", i+1, resp.StatusCode, body, FromCache(resp))
		}
	}
	if full.Load() != 1 || notModified.Load() != 2 {
		t.Errorf("server sent %d full answers and %d 304s, want 1 and 2", full.Load(), notModified.Load())
	}
}
