package docs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// Store is what the documentation source keeps: its own state, and the
// sections it gives the search.
type Store interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
	PutSearchDocs(ctx context.Context, docs ...store.SearchDoc) error
	DeleteSearchDocs(ctx context.Context, ids ...string) error
	SearchDocIDs(ctx context.Context, kind, prefix string) ([]string, error)
}

// Watcher reads a documentation folder again and again, and keeps the
// search's sections of its pages in step: a changed page is read again, a
// page gone loses its sections. Only the leading replica runs it; every
// replica's index follows the store.
type Watcher struct {
	Name     string // which documentation: "osbuild/osbuild.github.io/docs"
	Folder   Folder
	Base     string // where the site publishes the folder
	Store    Store
	Interval time.Duration
	Wrote    func() // after a change (the index's follower reads at once); may be nil
	Log      zerolog.Logger
	Now      func() time.Time

	state health.State
}

// folderState is what was read last: the folder's version and each page's
// id.
type folderState struct {
	Version string            `json:"version"`
	Files   map[string]string `json:"files"`
}

// Health says how the last reading went, for !status.
func (w *Watcher) Health() health.Report {
	return w.state.Report("documentation "+w.Name, "not read yet")
}

// Run reads the folder at once and then every Interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "Documentation " + w.Name, Interval: w.Interval, Retry: backoff.Policy{Min: 30 * time.Second, Max: w.Interval},
		Health: &w.state, Now: w.Now, Log: w.Log,
		Round: func(ctx context.Context) (string, error) {
			pages, err := w.Check(ctx)
			return fmt.Sprintf("%d pages", pages), err
		},
	}
	return loop.Run(ctx)
}

// Check reads what changed since the last time and returns how many pages
// the folder has. A page that cannot be read or parsed keeps its sections
// and is tried again next time; the others are read.
func (w *Watcher) Check(ctx context.Context) (int, error) {
	last, err := w.load(ctx)
	if err != nil {
		return 0, err
	}
	version, files, err := w.Folder.Files(ctx, last.Version)
	if err != nil {
		return len(last.Files), err
	}
	if version == last.Version && files == nil {
		return len(last.Files), nil
	}
	next := folderState{Version: version, Files: map[string]string{}}
	var errs []error
	changed := 0
	for rel, id := range files {
		if last.Files[rel] == id {
			next.Files[rel] = id
			continue
		}
		if err := w.readPage(ctx, rel, id); err != nil {
			errs = append(errs, err)
			if old, ok := last.Files[rel]; ok {
				next.Files[rel] = old
			}
			next.Version = "" // list everything again next time
			continue
		}
		next.Files[rel] = id
		changed++
	}
	for rel := range last.Files {
		if _, ok := files[rel]; !ok {
			if err := w.dropPage(ctx, rel, nil); err != nil {
				errs = append(errs, err)
				continue
			}
			changed++
		}
	}
	if err := w.save(ctx, next); err != nil {
		errs = append(errs, err)
	}
	if changed > 0 && w.Wrote != nil {
		w.Wrote()
	}
	return len(files), errors.Join(errs...)
}

// readPage puts a page's sections, and drops those it no longer has.
func (w *Watcher) readPage(ctx context.Context, rel, id string) error {
	body, err := w.Folder.Read(ctx, rel, id)
	if err != nil {
		return err
	}
	page, err := ParsePage(rel, body, w.Base)
	if err != nil {
		return err
	}
	var docs []store.SearchDoc
	keep := map[string]bool{}
	for _, s := range page.Sections {
		d := store.SearchDoc{ID: w.sectionID(rel, s), Kind: "docs", Title: page.Title, Heading: s.Heading, Body: s.Text, URL: s.Address}
		docs = append(docs, d)
		keep[d.ID] = true
	}
	if err := w.Store.PutSearchDocs(ctx, docs...); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return w.dropPage(ctx, rel, keep)
}

// dropPage drops a page's sections but those kept.
func (w *Watcher) dropPage(ctx context.Context, rel string, keep map[string]bool) error {
	ids, err := w.Store.SearchDocIDs(ctx, "docs", w.pagePrefix(rel))
	if err != nil {
		return err
	}
	var gone []string
	for _, id := range ids {
		if !keep[id] {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	return w.Store.DeleteSearchDocs(ctx, gone...)
}

// A section's id names the documentation, the page and the anchor, so a
// page's sections share a prefix.
func (w *Watcher) pagePrefix(rel string) string { return "docs:" + w.Name + ":" + rel + "#" }

func (w *Watcher) sectionID(rel string, s Section) string {
	_, anchor, _ := strings.Cut(s.Address, "#") // a page's address has none
	return w.pagePrefix(rel) + anchor
}

func (w *Watcher) stateKey() string { return "docs.state." + w.Name }

func (w *Watcher) load(ctx context.Context) (folderState, error) {
	var st folderState
	raw, ok, err := w.Store.Get(ctx, w.stateKey())
	if err != nil || !ok {
		return st, err
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		w.Log.Warn().Err(err).Msg("The documentation's saved state does not read; reading every page again")
		return folderState{}, nil
	}
	return st, nil
}

func (w *Watcher) save(ctx context.Context, st folderState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return w.Store.Put(ctx, w.stateKey(), string(b))
}
