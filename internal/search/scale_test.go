package search_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/internal/search"
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
