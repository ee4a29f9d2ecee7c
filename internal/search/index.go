// Package search is the room's memory: a full-text index of the
// documentation's sections, the list's threads and the issues and pull
// requests of the followed repositories, asked by !docs, !search and
// !ml search.
//
// The index is derived data. Every replica keeps its own, in memory, built
// from what the store holds (internal/store's search documents, written by
// the sources), so deleting it loses nothing and two replicas that read
// the same store give the same answers, on SQLite as on PostgreSQL: the
// engine is bleve, one ranking whatever the database.
package search

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"

	"github.com/osbuild/ibbot/internal/suggest"
)

var wordPattern = regexp.MustCompile(words)

// Kind is what a document is.
type Kind string

// The kinds of documents.
const (
	Docs  Kind = "docs"  // a section of a documentation page
	Mail  Kind = "mail"  // a thread of the mailing list
	Issue Kind = "issue" // an issue or a pull request
)

// Doc is one document of the index.
type Doc struct {
	ID      string // unique: "docs:" + address, "mail:" + root Message-ID, "issue:" + owner/repo#N
	Kind    Kind
	Scope   string    // what a room must follow to find it: a List-Id, owner/repo; "" for docs
	Title   string    // the page's title, the thread's subject, the issue's title
	Heading string    // a section's heading
	Body    string    // the text
	Extra   string    // labels, authors, state: found, weighed lightly
	URL     string    // where it is read
	Date    time.Time // the mail's or the issue's last change; zero for docs
}

// Index is the full-text index. Safe for concurrent use.
type Index struct {
	bleve   bleve.Index
	ranking ranking

	// lengths are the documents' field lengths in terms, and their sums,
	// for BM25's average field length: bleve's own estimate (distinct
	// terms per document) is far from it, and ranks long sections down.
	mu      sync.Mutex
	lengths map[string]map[string]int
	totals  map[string]int
	// words are the words the documents are written with, for "did you
	// mean" (the index itself knows only stems); stems are their terms in
	// the index, so a query's word is known without asking the index.
	words map[string]bool
	stems map[string]bool
}

// maxWords bounds the words kept for "did you mean".
const maxWords = 200_000

// New makes an empty index in memory.
func New() (*Index, error) {
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("creating the search index: %w", err)
	}
	return &Index{bleve: idx, ranking: defaultRanking, lengths: map[string]map[string]int{}, totals: map[string]int{}, words: map[string]bool{}, stems: map[string]bool{}}, nil
}

// Close releases the index.
func (x *Index) Close() error { return x.bleve.Close() }

// Put adds documents, or replaces those with the same ids.
func (x *Index) Put(ctx context.Context, docs ...Doc) error {
	b := x.bleve.NewBatch()
	lengths := make(map[string]map[string]int, len(docs))
	for _, d := range docs {
		f := fieldsOf(d)
		if err := b.Index(d.ID, f); err != nil {
			return fmt.Errorf("indexing %s: %w", d.ID, err)
		}
		lengths[d.ID] = x.fieldLengths(f)
	}
	if err := x.bleve.Batch(b); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for id, l := range lengths {
		x.count(id, l)
	}
	for _, d := range docs {
		x.learnWords(d.Title, d.Heading, d.Body)
	}
	return nil
}

// learnWords keeps the words of texts, lower case.
func (x *Index) learnWords(texts ...string) {
	for _, t := range texts {
		for _, w := range wordPattern.FindAllString(strings.ToLower(t), -1) {
			if x.words[w] {
				continue
			}
			if len(x.words) >= maxWords {
				return
			}
			x.words[w] = true
			x.stems[stem(w)] = true
		}
	}
}

// Closest is the word of the documents nearest to word (a typo's likely
// meaning), or "".
func (x *Index) Closest(word string) string {
	x.mu.Lock()
	known := make([]string, 0, len(x.words))
	for w := range x.words {
		known = append(known, w)
	}
	x.mu.Unlock()
	slices.Sort(known) // ties go to the same word every time
	return suggest.Closest(strings.ToLower(word), known)
}

// count records a document's field lengths (nil: it is gone).
func (x *Index) count(id string, l map[string]int) {
	for field, n := range x.lengths[id] {
		x.totals[field] -= n
	}
	delete(x.lengths, id)
	if l != nil {
		x.lengths[id] = l
		for field, n := range l {
			x.totals[field] += n
		}
	}
}

func (x *Index) fieldLengths(f fields) map[string]int {
	a := x.bleve.Mapping().AnalyzerNamed(analyzer)
	out := map[string]int{}
	for field, text := range map[string]string{"title": f.Title, "heading": f.Heading, "body": f.Body, "extra": f.Extra} {
		out[field] = len(a.Analyze([]byte(text)))
	}
	return out
}

// bm25Stats are the figures BM25 weighs field lengths against.
func (x *Index) bm25Stats() *search.BM25Stats {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := &search.BM25Stats{DocCount: float64(len(x.lengths)), FieldCardinality: map[string]int{}}
	for _, field := range fieldOrder { // every field, even with no document yet
		s.FieldCardinality[field] = x.totals[field]
	}
	// The keyword fields hold one term each; the composite field (a
	// query without a field, as a filter's may be) everything.
	s.FieldCardinality["kind"] = len(x.lengths)
	s.FieldCardinality["scope"] = len(x.lengths)
	all := 0
	for _, n := range x.totals {
		all += n
	}
	s.FieldCardinality["*"] = all
	return s
}

// Delete removes documents; unknown ids are ignored.
func (x *Index) Delete(ctx context.Context, ids ...string) error {
	b := x.bleve.NewBatch()
	for _, id := range ids {
		b.Delete(id)
	}
	if err := x.bleve.Batch(b); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		x.count(id, nil)
	}
	return nil
}

// Count is how many documents the index holds.
func (x *Index) Count() (uint64, error) { return x.bleve.DocCount() }

// fields is a document as bleve indexes it.
type fields struct {
	Kind    string    `json:"kind"`
	Scope   string    `json:"scope"`
	Title   string    `json:"title"`
	Heading string    `json:"heading"`
	Body    string    `json:"body"`
	Extra   string    `json:"extra"`
	URL     string    `json:"url"`
	Date    time.Time `json:"date"`
}

func fieldsOf(d Doc) fields {
	return fields{Kind: string(d.Kind), Scope: d.Scope, Title: d.Title, Heading: d.Heading, Body: d.Body,
		Extra: d.Extra, URL: d.URL, Date: d.Date}
}

// stem is a word's term in the index (the analyzer's Snowball stemmer).
func stem(word string) string {
	env := snowballstem.NewEnv(word)
	english.Stem(env)
	return env.Current()
}
