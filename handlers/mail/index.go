package mail

import (
	"context"
	"slices"
	"strings"

	"github.com/osbuild/ibbot/internal/store"
)

// maxThreadText bounds a thread's text in the search: a long thread is
// found by its first hundred kilobytes.
const maxThreadText = 100_000

// legacyScope is the list of mail relayed before the relay kept which list
// a mail came through (it came through the config's).
const legacyScope = "-"

// threadID is a thread's document in the search.
func threadID(root string) string { return "mail:" + root }

// index adds a relayed mail to its thread's document in the search: the
// root's subject and link, every mail's own text (not what it quotes) and
// author, the last date.
// Adding the same mail again changes nothing.
// Wrote (may be nil) is told, so this replica's index reads it at once.
func (r *Relay) index(ctx context.Context, m *Mail, root string, list string) error {
	if r.Search == nil {
		return nil
	}
	doc, found, err := r.Search.SearchDoc(ctx, threadID(root))
	if err != nil {
		return err
	}
	if !found || doc.Deleted {
		doc = store.SearchDoc{ID: threadID(root), Kind: "mail", Title: m.Subject, URL: m.ArchiveURL}
	}
	if root == m.MessageID {
		doc.Title, doc.URL = m.Subject, m.ArchiveURL
	}
	doc.Scope = list
	if list == "" {
		doc.Scope = legacyScope
	}
	if own := ownWords(m.Body); own != "" && len(doc.Body) < maxThreadText && !strings.Contains(doc.Body, own) {
		doc.Body = strings.TrimSpace(doc.Body + "\n\n" + own)
	}
	authors := strings.Split(doc.Extra, ", ")
	if m.Author != "" && !slices.Contains(authors, m.Author) {
		doc.Extra = strings.TrimPrefix(doc.Extra+", "+m.Author, ", ")
	}
	if m.Date.After(doc.Dated) {
		doc.Dated = m.Date
	}
	if err := r.Search.PutSearchDocs(ctx, doc); err != nil {
		return err
	}
	if r.Wrote != nil {
		r.Wrote()
	}
	return nil
}

// Unsearched is what the backfill reads: threads relayed before the
// search kept them.
type Unsearched interface {
	MailThreadsUnsearched(ctx context.Context, limit int) ([]store.MailRow, error)
	PutSearchDocs(ctx context.Context, docs ...store.SearchDoc) error
}

// Backfill gives the search the threads relayed before it existed, from
// what their notices showed (subject, author, excerpt, link); their later
// mails add their text as they come. It returns how many it added.
func Backfill(ctx context.Context, st Unsearched) (int, error) {
	total := 0
	for {
		rows, err := st.MailThreadsUnsearched(ctx, 500)
		if err != nil || len(rows) == 0 {
			return total, err
		}
		docs := make([]store.SearchDoc, 0, len(rows))
		for _, r := range rows {
			scope := r.ListID
			if scope == "" {
				scope = legacyScope
			}
			docs = append(docs, store.SearchDoc{ID: threadID(r.MessageID), Kind: "mail", Scope: scope, Title: r.Subject,
				Body: r.Excerpt, Extra: r.Author, URL: r.ArchiveURL, Dated: r.SentAt})
		}
		if err := st.PutSearchDocs(ctx, docs...); err != nil {
			return total, err
		}
		total += len(docs)
	}
}
