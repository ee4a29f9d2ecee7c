package search_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/search"
	"github.com/osbuild/ibbot/internal/store"
)

// corpus is made-up mail and issues at the size the issue names: 10,000
// mails in threads and 5,000 issues, written with the words of the test
// documentation (so queries hit them as they would real traffic).
func corpus(t testing.TB, mails, issues int) []search.Doc {
	var words []string
	for _, d := range testPages(t) {
		words = append(words, strings.Fields(d.Body)...)
	}
	r := rand.New(rand.NewPCG(1, 2))
	text := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[r.IntN(len(words))])
		}
		return b.String()
	}
	var out []search.Doc
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < mails/4; i++ { // threads of four mails
		out = append(out, search.Doc{ID: fmt.Sprintf("mail:%d", i), Kind: search.Mail, Scope: "image-builder.lists.example.org",
			Title: text(8), Body: text(4 * 200), Extra: "Ana Silva, Ondrej", URL: fmt.Sprintf("https://lists.example.org/t/%d", i),
			Date: at.Add(time.Duration(i) * time.Hour)})
	}
	for i := range issues {
		out = append(out, search.Doc{ID: fmt.Sprintf("issue:osbuild/images#%d", i), Kind: search.Issue, Scope: "osbuild/images",
			Title: text(8), Body: text(120), Extra: "issue open bug", URL: fmt.Sprintf("https://github.com/osbuild/images/issues/%d", i),
			Date: at.Add(time.Duration(i) * time.Minute)})
	}
	return out
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// BenchmarkScale indexes the documentation with 10,000 mails and 5,000
// issues, and asks the relevance set's questions over all three kinds:
// the time to index, the heap the index holds, and query p50/p99 against
// the same questions over the documentation alone (the baseline, same
// run).
func BenchmarkScale(b *testing.B) {
	docs := testPages(b)
	extra := corpus(b, 10_000, 5_000)
	scopes := map[search.Kind][]string{search.Mail: {"image-builder.lists.example.org"}, search.Issue: {"osbuild/*"}}
	for b.Loop() {
		before := heapMB()
		small := indexed(b, docs)
		start := time.Now()
		big := indexed(b, append(slices.Clone(docs), extra...))
		took := time.Since(start)
		held := heapMB() - before
		p := func(x *search.Index) (p50, p99 float64) {
			var times []time.Duration
			for range 10 {
				for _, q := range questions(b) {
					t0 := time.Now()
					if _, err := x.Search(ctx, search.Query{Text: q.Q, Scopes: scopes}); err != nil {
						b.Fatal(err)
					}
					times = append(times, time.Since(t0))
				}
			}
			slices.Sort(times)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			return ms(times[len(times)/2]), ms(times[len(times)*99/100])
		}
		s50, s99 := p(small)
		b50, b99 := p(big)
		b.ReportMetric(took.Seconds(), "index-s")
		b.ReportMetric(held, "heap-MB")
		b.ReportMetric(b50, "p50-ms")
		b.ReportMetric(b99, "p99-ms")
		b.ReportMetric(b99/s99, "p99-ratio-to-docs-only")
		b.Logf("%d documents indexed in %s, heap %.0f MB; query p50 %.1f ms p99 %.1f ms (docs only: %.1f / %.1f ms)",
			len(docs)+len(extra), took.Round(time.Millisecond), held, b50, b99, s50, s99)
	}
}

// rssMB is the process's resident memory and its peak, in MiB, after a
// collection that returns what it can to the system: what the operator's
// dashboard shows, where heapMB is what Go holds.
func rssMB(t testing.TB) (rss, peak float64) {
	runtime.GC()
	debug.FreeOSMemory()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status here:", err)
	}
	field := func(name string) float64 {
		for line := range strings.Lines(string(status)) {
			if rest, ok := strings.CutPrefix(line, name+":"); ok {
				kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
				if err != nil {
					t.Fatalf("%s in /proc/self/status: %v", name, err)
				}
				return float64(kb) / 1024
			}
		}
		t.Fatalf("no %s in /proc/self/status", name)
		return 0
	}
	return field("VmRSS"), field("VmHWM")
}

// resetPeak starts VmHWM again from the current RSS, so the peak read
// later is the indexing's alone, not the store's filling.
func resetPeak(t testing.TB) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skip("cannot reset the peak RSS here:", err)
	}
}

// BenchmarkMemory is the index's resident cost at the size the issue names
// and what an idle replica adds to it: the documentation with 10,000 mails
// and 5,000 issues indexed through a Follower of a real SQLite store (as
// in the bot), then an hour of idle reads at the bot's 10 s interval that
// find no change, then 1,000 questions. The baseline is the same process
// holding the documentation alone.
func BenchmarkMemory(b *testing.B) {
	docs := append(testPages(b), corpus(b, 10_000, 5_000)...)
	scopes := map[search.Kind][]string{search.Mail: {"image-builder.lists.example.org"}, search.Issue: {"osbuild/*"}}
	for b.Loop() {
		st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "ibbot.db"))
		if err != nil {
			b.Fatal(err)
		}
		base, _ := rssMB(b)
		indexed(b, testPages(b)) // closed when the benchmark ends
		docsOnly, _ := rssMB(b)
		var rows []store.SearchDoc
		for _, d := range docs {
			rows = append(rows, store.SearchDoc{ID: d.ID, Kind: string(d.Kind), Scope: d.Scope, Title: d.Title,
				Heading: d.Heading, Body: d.Body, Extra: d.Extra, URL: d.URL, Dated: d.Date})
		}
		if err := st.PutSearchDocs(ctx, rows...); err != nil {
			b.Fatal(err)
		}
		rows = nil
		filled, _ := rssMB(b) // the store's rows written and let go
		resetPeak(b)
		x, err := search.New()
		if err != nil {
			b.Fatal(err)
		}
		f := &search.Follower{Store: st, Index: x, Interval: 10 * time.Second, Log: zerolog.Nop(), Now: time.Now}
		start := time.Now()
		if n, err := f.CatchUp(ctx); err != nil || n != len(docs) {
			b.Fatalf("indexed %d of %d changes: %v", n, len(docs), err)
		}
		took := time.Since(start)
		time.Sleep(10 * time.Second) // the index merges its segments in the background
		built, peak := rssMB(b)
		for range 360 { // an hour of reads every 10 s, nothing new
			if n, err := f.CatchUp(ctx); err != nil || n != 0 {
				b.Fatalf("an idle read found %d changes: %v", n, err)
			}
		}
		idle, _ := rssMB(b)
		for i := range 1000 {
			q := questions(b)[i%len(questions(b))]
			if _, err := x.Search(ctx, search.Query{Text: q.Q, Scopes: scopes, Limit: 3}); err != nil {
				b.Fatal(err)
			}
		}
		asked, _ := rssMB(b)
		b.ReportMetric(docsOnly-base, "docs-RSS-MB")
		b.ReportMetric(built-filled, "RSS-MB")
		b.ReportMetric(peak-filled, "peak-RSS-MB")
		b.ReportMetric(idle-built, "idle-hour-RSS-MB")
		b.ReportMetric(asked-idle, "1000-questions-RSS-MB")
		b.ReportMetric(took.Seconds(), "index-s")
		b.Logf("indexed from the store in %s; resident over a %.0f MiB process: docs alone %.0f MiB; %d documents %.0f MiB (peak while indexing %.0f MiB, "+
			"the process %.0f MiB); after an idle hour %+.1f MiB; after 1,000 questions %+.1f MiB",
			took.Round(time.Millisecond), base, docsOnly-base, len(docs), built-filled, peak-filled, peak, idle-built, asked-idle)
		x.Close()
		st.Close()
	}
}
