package github

import (
	"context"
	"strings"

	"github.com/osbuild/ibbot/internal/store"
)

// maxIssueText bounds an issue's text kept for the search.
const maxIssueText = 20_000

// SearchDocs is where the relay gives the search its issues and pull
// requests.
type SearchDocs interface {
	PutSearchDocs(ctx context.Context, docs ...store.SearchDoc) error
}

// index writes an issue's or a pull request's newest snapshot into the
// search: its title, text, kind, state, labels and author, scoped to its
// repository. Writing the same snapshot again is no change.
func (r *Relay) index(ctx context.Context, it Item) error {
	doc, ok := searchDoc(it)
	if r.search == nil || !ok {
		return nil
	}
	if err := r.search.PutSearchDocs(ctx, doc); err != nil {
		return err
	}
	if r.wrote != nil {
		r.wrote()
	}
	return nil
}

// searchDoc is an issue's or a pull request's document in the search;
// false for other items.
func searchDoc(it Item) (store.SearchDoc, bool) {
	if it.Kind != KindIssue && it.Kind != KindPull {
		return store.SearchDoc{}, false
	}
	kind := "issue"
	if it.Kind == KindPull {
		kind = "pull request"
	}
	extra := strings.Join(append([]string{kind, it.State, it.Author}, it.Labels...), " ")
	return store.SearchDoc{ID: "issue:" + it.Key(), Kind: "issue", Scope: strings.ToLower(it.Repo), Title: it.Title,
		Body: truncate(it.Body, maxIssueText), Extra: extra, URL: it.URL, Dated: it.Updated}, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
