package meetings

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/osbuild/ibbot/internal/statuspage"
	"github.com/osbuild/ibbot/internal/store"
)

//go:embed pages.html
var pagesHTML string

var pagesTmpl = template.Must(template.New("pages").Funcs(template.FuncMap{
	"when": when, "slug": Slug, "permalink": Permalink, "duration": duration, "upper": strings.ToUpper,
	"clock": func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"or":    cmp.Or[string],
}).Parse(pagesHTML))

// Pages serves the meetings on the status page, under /meetings/: an
// index of the meetings held, each one's minutes and its full log, with
// the page's own safety rules (escaped, no scripts, nothing loaded).
type Pages struct {
	Store  Store
	Prefix string
	Title  string // e.g. "Image Builder"
}

// Register adds the pages to the status page's mux.
func (p *Pages) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /meetings/{$}", p.index)
	mux.HandleFunc("GET /meetings/{slug}/{$}", p.minutes)
	mux.HandleFunc("GET /meetings/{slug}/log", p.log)
}

type pageView struct {
	Title    string
	Page     string // index, minutes or log
	Meetings []store.Meeting
	Minutes  *Minutes
}

func (p *Pages) index(w http.ResponseWriter, r *http.Request) {
	all, err := p.Store.Meetings(r.Context(), "", 200)
	if err != nil {
		http.Error(w, "the meetings cannot be read now", http.StatusServiceUnavailable)
		return
	}
	p.render(w, r, pageView{Title: p.Title, Page: "index", Meetings: all})
}

func (p *Pages) minutes(w http.ResponseWriter, r *http.Request) {
	if min, ok := p.find(w, r); ok {
		p.render(w, r, pageView{Title: p.Title, Page: "minutes", Minutes: min})
	}
}

func (p *Pages) log(w http.ResponseWriter, r *http.Request) {
	if min, ok := p.find(w, r); ok {
		p.render(w, r, pageView{Title: p.Title, Page: "log", Minutes: min})
	}
}

// find reads the meeting the address names; only ended meetings are
// public (a running one's log is still being written).
func (p *Pages) find(w http.ResponseWriter, r *http.Request) (*Minutes, bool) {
	min, err := p.bySlug(r.Context(), r.PathValue("slug"))
	switch {
	case err != nil:
		http.Error(w, "the meetings cannot be read now", http.StatusServiceUnavailable)
	case min == nil:
		http.NotFound(w, r)
	}
	return min, err == nil && min != nil
}

func (p *Pages) bySlug(ctx context.Context, slug string) (*Minutes, error) {
	all, err := p.Store.Meetings(ctx, "", 1000)
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if Slug(m) == slug {
			lines, err := p.Store.MeetingLines(ctx, m.ID)
			if err != nil {
				return nil, err
			}
			return Fold(m, lines, p.Prefix), nil
		}
	}
	return nil, nil
}

func (p *Pages) render(w http.ResponseWriter, r *http.Request, v pageView) {
	var buf bytes.Buffer
	if err := pagesTmpl.Execute(&buf, v); err != nil {
		http.Error(w, "the page cannot be made now", http.StatusInternalServerError)
		return
	}
	statuspage.Serve(w, r, "text/html; charset=utf-8", buf.Bytes())
}
