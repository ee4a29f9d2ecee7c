package search_test

import (
	"database/sql"
	"regexp"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/osbuild/ibbot/internal/search"
)

// The engines the index was chosen against, measured on the same
// questions (TestEngines): SQLite's FTS5 over whole pages with its
// built-in BM25 (the "plain BM25" baseline, and what the docs site's own
// search box roughly does), and FTS5 over sections with Porter stems and
// column weights (the best SQLite alone gives; PostgreSQL's ts_rank would
// rank differently again, which is why neither database does the ranking).

type fts5 struct {
	db       *sql.DB
	sections bool
}

func newFTS5(t testing.TB, docs []search.Doc, sections bool) *fts5 {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	tokenize := "unicode61"
	if sections {
		tokenize = "porter unicode61"
	}
	if _, err := db.Exec(`CREATE VIRTUAL TABLE d USING fts5(url UNINDEXED, title, heading, body, tokenize='` + tokenize + `')`); err != nil {
		t.Fatal(err)
	}
	pages := map[string]*search.Doc{}
	var order []string
	for _, d := range docs {
		if sections {
			if _, err := db.Exec(`INSERT INTO d VALUES (?, ?, ?, ?)`, d.URL, d.Title, d.Heading, d.Body); err != nil {
				t.Fatal(err)
			}
			continue
		}
		page, _, _ := strings.Cut(d.URL, "#")
		if pages[page] == nil {
			pages[page] = &search.Doc{URL: page, Title: d.Title}
			order = append(order, page)
		}
		pages[page].Body += d.Heading + "\n" + d.Body + "\n"
	}
	for _, p := range order {
		if _, err := db.Exec(`INSERT INTO d VALUES (?, ?, '', ?)`, p, pages[p].Title, pages[p].Body); err != nil {
			t.Fatal(err)
		}
	}
	return &fts5{db: db, sections: sections}
}

var ftsWord = regexp.MustCompile(`[\p{L}\p{N}_]+`)

// rank asks FTS5 for any of the words, best BM25 first.
func (f *fts5) rank(t testing.TB, q string) []string {
	var words []string
	for _, w := range ftsWord.FindAllString(q, -1) {
		words = append(words, `"`+w+`"`)
	}
	order := `bm25(d)`
	if f.sections {
		order = `bm25(d, 0, 3.0, 2.5, 1.0)`
	}
	rows, err := f.db.Query(`SELECT url FROM d WHERE d MATCH ? ORDER BY `+order+` LIMIT 10`, strings.Join(words, " OR "))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		rows.Scan(&u)
		out = append(out, u)
	}
	return out
}

// TestEngines measures the engines on the question set: by page, plain
// BM25 over whole pages (FTS5) against the index; by section, FTS5 with
// stems and column weights against the index. The index must beat both.
func TestEngines(t *testing.T) {
	docs := testPages(t)
	pages := newFTS5(t, docs, false)
	plain, _ := measure(t, true, func(q string) []string { return pages.rank(t, q) })
	sections := newFTS5(t, docs, true)
	fts, _ := measure(t, false, func(q string) []string { return sections.rank(t, q) })
	x := indexed(t, docs)
	oursByPage, _ := measure(t, true, func(q string) []string { return rank(t, x, q) })
	ours, _ := measure(t, false, func(q string) []string { return rank(t, x, q) })
	t.Logf("by page:    FTS5 BM25 over whole pages %s; the index %s", plain, oursByPage)
	t.Logf("by section: FTS5 BM25, stems, weights  %s; the index %s", fts, ours)
	if oursByPage.mrr <= plain.mrr || ours.mrr <= fts.mrr {
		t.Errorf("the index ranks no better than FTS5")
	}
}
