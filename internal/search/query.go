package search

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Query is what a room asks.
type Query struct {
	Text  string
	Kinds []Kind // none: every kind
	// Scopes are what the room follows, per kind (List-Ids for Mail,
	// owner/repo for Issue); a kind with none finds nothing. Docs have no
	// scope.
	Scopes map[Kind][]string
	Limit  int // default 3
}

// Hit is one answer.
type Hit struct {
	Doc     Doc
	Score   float64
	Context []Segment // a line around the matched words
}

// Segment is a piece of a context line; Match marks the words the query
// found.
type Segment struct {
	Text  string
	Match bool
}

// Result is the answers, best first, and what the index did not know.
type Result struct {
	Hits    []Hit
	Unknown []string // words of the query the index does not know, as written
}

// ranking is how a query's words are weighed.
type ranking struct {
	// fields and their weights: a word in a page's title or a section's
	// heading says more about the document than one in its text.
	fields map[string]float64
	phrase float64 // the weight of the query's words in a row, against one word
	typos  bool    // look for words the index does not know with a typo or two
	others float64 // the weight of the vocabulary's other words for a query's word
}

// fieldOrder is the text fields in the order queries name them: a fixed
// order, so that scores are summed alike on every replica.
var fieldOrder = []string{"title", "heading", "body", "extra"}

var defaultRanking = ranking{
	fields: map[string]float64{"title": 2, "heading": 2, "body": 1, "extra": 0.5},
	phrase: 2,
	typos:  true,
	others: 0.5,
}

// Search answers a query.
func (x *Index) Search(ctx context.Context, q Query) (Result, error) {
	whole, unknown, err := x.build(q)
	res := Result{Unknown: unknown}
	if err != nil || whole == nil {
		return res, err
	}
	req := bleve.NewSearchRequestOptions(whole, limit(q.Limit), 0, false)
	req.Fields = []string{"*"}
	// Equal scores in the id's order: the index's own order of documents
	// differs between replicas, which must give the same answers.
	req.SortBy([]string{"-_score", "_id"})
	req.PreSearchData = map[string]any{bsearch.BM25PreSearchDataKey: x.bm25Stats()}
	req.Highlight = bleve.NewHighlightWithStyle("html")
	req.Highlight.AddField("body")
	req.Highlight.AddField("title")
	found, err := x.bleve.SearchInContext(ctx, req)
	if err != nil {
		return res, fmt.Errorf("searching: %w", err)
	}
	for _, h := range found.Hits {
		res.Hits = append(res.Hits, hitOf(h))
	}
	return res, nil
}

// build makes the engine's query of a room's: each word weighed by field
// (with a typo or two when the index does not know it), the vocabulary's
// other words, the words in a row; within what the room may see, and with
// a third of a long question's words at least. It also returns the words
// the index does not know; nil when nothing is left to ask.
func (x *Index) build(q Query) (query.Query, []string, error) {
	terms, written, err := x.analyzeWords(q.Text)
	if err != nil {
		return nil, nil, err
	}
	var unknown []string
	match := bleve.NewBooleanQuery()
	var asked []query.Query // each of the query's words, anywhere
	for i, t := range terms {
		known := x.known(t)
		if !known {
			unknown = append(unknown, written[i])
			if !x.ranking.typos {
				continue
			}
		}
		q := x.ranking.termQuery(t, known)
		match.AddShould(q)
		asked = append(asked, q)
	}
	if len(asked) == 0 {
		return nil, unknown, nil
	}
	if err := x.addOthers(match, q.Text, terms); err != nil {
		return nil, unknown, err
	}
	if len(terms) > 1 {
		x.ranking.addPhrase(match, q.Text)
	}
	match.SetMinShould(1)
	// Filters weigh nothing in the ranking.
	coverage := bleve.NewDisjunctionQuery(asked...)
	coverage.SetMin(float64((len(asked) + 2) / 3))
	whole := bleve.NewBooleanQuery()
	whole.AddMust(match)
	whole.AddFilter(bleve.NewConjunctionQuery(scopeFilter(q), coverage))
	return whole, unknown, nil
}

// addPhrase ranks up the words in a row, in the fields that weigh.
func (r ranking) addPhrase(match *query.BooleanQuery, text string) {
	if r.phrase <= 0 {
		return
	}
	for _, field := range fieldOrder {
		if w := r.fields[field]; w > 0 && field != "extra" {
			p := bleve.NewMatchPhraseQuery(text)
			p.SetField(field)
			p.SetBoost(r.phrase * w)
			match.AddShould(p)
		}
	}
}

// addOthers adds the vocabulary's other words for the query's words,
// weighed less: a word, or words in a row (a phrase).
func (x *Index) addOthers(match *query.BooleanQuery, text string, asked []string) error {
	if x.ranking.others <= 0 {
		return nil
	}
	for _, other := range expansions(text) {
		terms, err := x.analyze(other)
		if err != nil {
			return err
		}
		switch {
		case len(terms) == 1 && !slices.Contains(asked, terms[0]):
			q := x.ranking.termQuery(terms[0], true).(*query.DisjunctionQuery)
			q.SetBoost(x.ranking.others)
			match.AddShould(q)
		case len(terms) > 1:
			for _, field := range fieldOrder {
				if w := x.ranking.fields[field]; w > 0 {
					p := bleve.NewMatchPhraseQuery(other)
					p.SetField(field)
					p.SetBoost(x.ranking.others * w)
					match.AddShould(p)
				}
			}
		}
	}
	return nil
}

func limit(n int) int {
	if n <= 0 {
		return 3
	}
	return n
}

// termQuery finds one term in every text field, weighted; a term the
// index does not know is looked for with a typo or two (fuzziness by
// length), weighted less.
func (r ranking) termQuery(term string, known bool) query.Query {
	var qs []query.Query
	for _, field := range fieldOrder {
		w := r.fields[field]
		if w <= 0 {
			continue
		}
		if known || len([]rune(term)) > maxFuzzyRunes {
			tq := bleve.NewTermQuery(term)
			tq.SetField(field)
			tq.SetBoost(w)
			qs = append(qs, tq)
			continue
		}
		fq := bleve.NewFuzzyQuery(term)
		fq.SetField(field)
		fq.SetFuzziness(fuzziness(term))
		fq.SetBoost(0.7 * w)
		qs = append(qs, fq)
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// maxFuzzyRunes bounds the words looked for with typos: a longer one is
// no typo of a word people use, and its automaton can outgrow bleve's
// limit ("dfa contains more than 10000 states", found by FuzzSearch).
const maxFuzzyRunes = 32

func fuzziness(term string) int {
	if len([]rune(term)) <= 5 {
		return 1
	}
	return 2
}

// scopeFilter keeps the kinds asked for, and of mail and issues only what
// the room follows.
func scopeFilter(q Query) query.Query {
	kinds := q.Kinds
	if len(kinds) == 0 {
		kinds = []Kind{Docs, Mail, Issue}
	}
	var either []query.Query
	for _, k := range kinds {
		kind := keywordQuery("kind", string(k))
		if k == Docs {
			either = append(either, kind)
			continue
		}
		var scopes []query.Query
		for _, s := range q.Scopes[k] {
			scopes = append(scopes, scopeQuery(strings.ToLower(s)))
		}
		if len(scopes) > 0 {
			either = append(either, bleve.NewConjunctionQuery(kind, bleve.NewDisjunctionQuery(scopes...)))
		}
	}
	if len(either) == 0 {
		return bleve.NewMatchNoneQuery()
	}
	return bleve.NewDisjunctionQuery(either...)
}

// scopeQuery matches a scope, or scopes by a glob ("osbuild/*").
func scopeQuery(scope string) query.Query {
	if !strings.ContainsAny(scope, "*?") {
		return keywordQuery("scope", scope)
	}
	w := bleve.NewWildcardQuery(scope)
	w.SetField("scope")
	return w
}

func keywordQuery(field, value string) query.Query {
	t := bleve.NewTermQuery(value)
	t.SetField(field)
	return t
}

// analyze turns text into the index's terms, as its fields were.
func (x *Index) analyze(text string) ([]string, error) {
	terms, _, err := x.analyzeWords(text)
	return terms, err
}

// analyzeWords is analyze, with the words of text each term came from.
func (x *Index) analyzeWords(text string) (terms, written []string, err error) {
	a := x.bleve.Mapping().AnalyzerNamed(analyzer)
	if a == nil {
		return nil, nil, fmt.Errorf("the search analyzer is missing")
	}
	seen := map[string]bool{}
	for _, tok := range a.Analyze([]byte(text)) {
		t := string(tok.Term)
		if !seen[t] {
			seen[t] = true
			terms = append(terms, t)
			written = append(written, text[tok.Start:tok.End])
		}
	}
	return terms, written, nil
}

// known reports whether some document has the term: its words are
// learnt as they are indexed. (A word only in deleted documents stays
// known until the index is built again, which costs it only its typo
// tolerance.)
func (x *Index) known(term string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.stems[term]
}

func hitOf(h *bsearch.DocumentMatch) Hit {
	str := func(name string) string { s, _ := h.Fields[name].(string); return s }
	d := Doc{ID: h.ID, Kind: Kind(str("kind")), Scope: str("scope"), Title: str("title"), Heading: str("heading"),
		Body: str("body"), Extra: str("extra"), URL: str("url")}
	if t, err := time.Parse(time.RFC3339, str("date")); err == nil && t.Year() > 1 {
		d.Date = t
	}
	ctx := fragment(h.Fragments["body"])
	if ctx == nil {
		ctx = fragment(h.Fragments["title"])
	}
	return Hit{Doc: d, Score: h.Score, Context: ctx}
}

var mark = regexp.MustCompile(`<mark>(.*?)</mark>`)

// fragment reads the highlighter's first fragment (HTML with <mark>) as
// one line of segments, without the halves of words it was cut through.
func fragment(frags []string) []Segment {
	if len(frags) == 0 {
		return nil
	}
	line := wholeWords(strings.Join(strings.Fields(frags[0]), " "))
	var out []Segment
	for {
		loc := mark.FindStringSubmatchIndex(line)
		if loc == nil {
			break
		}
		if loc[0] > 0 {
			out = append(out, Segment{Text: html.UnescapeString(line[:loc[0]])})
		}
		out = append(out, Segment{Text: html.UnescapeString(line[loc[2]:loc[3]]), Match: true})
		line = line[loc[1]:]
	}
	if line != "" {
		out = append(out, Segment{Text: html.UnescapeString(line)})
	}
	return out
}

// wholeWords drops the part of a word a fragment starts or ends inside
// (the highlighter cuts at a length), keeping its "…".
func wholeWords(line string) string {
	if rest, ok := strings.CutPrefix(line, "…"); ok {
		if i := strings.IndexByte(rest, ' '); i >= 0 && !strings.HasPrefix(rest[:i], "<mark>") {
			line = "…" + rest[i+1:]
		}
	}
	if rest, ok := strings.CutSuffix(line, "…"); ok {
		if i := strings.LastIndexByte(rest, ' '); i >= 0 && !strings.Contains(rest[i:], "</mark>") {
			line = rest[:i] + "…"
		}
	}
	return line
}
