package search_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/osbuild/ibbot/handlers/docs"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/search"
)

const docsBase = "https://osbuild.org/docs/"

type question struct {
	Q       string   `yaml:"q"`
	Source  string   `yaml:"source"`
	Answers []string `yaml:"answers"`
}

func questions(t testing.TB) []question {
	t.Helper()
	var qs []question
	if err := yaml.Unmarshal(fixtures.Read("docs/questions.yaml"), &qs); err != nil {
		t.Fatal(err)
	}
	return qs
}

// testPages are the test documentation's sections as documents.
func testPages(t testing.TB) []search.Doc {
	t.Helper()
	pages, errs := docs.ReadFolder(fixtures.FS, "docs/docs", docsBase)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var out []search.Doc
	for _, p := range pages {
		for _, s := range p.Sections {
			out = append(out, search.Doc{ID: "docs:" + s.Address, Kind: search.Docs, Title: p.Title, Heading: s.Heading, Body: s.Text, URL: s.Address})
		}
	}
	return out
}

// scores are the relevance figures of a ranking over the question set.
type scores struct{ at1, at3, mrr float64 }

func (s scores) String() string {
	return fmt.Sprintf("recall@1 %.2f, recall@3 %.2f, MRR %.2f", s.at1, s.at3, s.mrr)
}

// measure asks every question and scores where the first right answer
// came; rank returns the addresses in order. By page, a ranking counts
// pages: each address stands for its page, and the right answers' pages
// are right.
func measure(t testing.TB, byPage bool, rank func(q string) []string) (scores, []string) {
	qs := questions(t)
	var s scores
	var misses []string
	for _, q := range qs {
		got, answers := rank(q.Q), q.Answers
		if byPage {
			got, answers = pagesOf(got), pagesOf(answers)
		}
		at := slices.IndexFunc(got, func(addr string) bool { return slices.Contains(answers, strings.TrimPrefix(addr, docsBase)) })
		switch {
		case at == 0:
			s.at1++
			fallthrough
		case at >= 0 && at < 3:
			s.at3++
		}
		if at >= 0 {
			s.mrr += 1 / float64(at+1)
		}
		if at != 0 {
			first := ""
			if len(got) > 0 {
				first = strings.TrimPrefix(got[0], docsBase)
			}
			misses = append(misses, fmt.Sprintf("%q: right answer at %d, first %s", q.Q, at+1, first))
		}
	}
	n := float64(len(qs))
	return scores{s.at1 / n, s.at3 / n, s.mrr / n}, misses
}

// pagesOf is the pages of addresses, each once, in order.
func pagesOf(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		page, _, _ := strings.Cut(strings.TrimPrefix(a, docsBase), "#")
		if !slices.Contains(out, page) {
			out = append(out, page)
		}
	}
	return out
}

func indexed(t testing.TB, docs []search.Doc) *search.Index {
	t.Helper()
	x, err := search.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	if err := x.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	return x
}

func rank(t testing.TB, x *search.Index, text string) []string {
	res, err := x.Search(context.Background(), search.Query{Text: text, Kinds: []search.Kind{search.Docs}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Doc.URL)
	}
	return out
}

// TestRelevance asks the 34 real questions of the relevance set of the
// test documentation and fails below the figures reached: how often the
// first answer, or one of the first three, is a section that answers.
func TestRelevance(t *testing.T) {
	x := indexed(t, testPages(t))
	got, misses := measure(t, false, func(q string) []string { return rank(t, x, q) })
	t.Logf("the index, by section: %s", got)
	for _, m := range misses {
		t.Log(m)
	}
	want := scores{at1: 0.73, at3: 0.93, mrr: 0.81}
	if got.at1 < want.at1 || got.at3 < want.at3 || got.mrr < want.mrr {
		t.Errorf("relevance fell: %s, want at least %s", got, want)
	}
}
