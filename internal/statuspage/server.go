package statuspage

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/diagram"
	"github.com/osbuild/ibbot/internal/diagram/draw"
	"github.com/osbuild/ibbot/internal/svgclean"
)

//go:embed page.html
var pageHTML string

// Page serves / (the page) and /status.json.
type Page struct {
	Source  *Source
	Diagram Diagram
	Title   string // e.g. "Image Builder hosted service"
	Links   []Link // pages served beside it, linked from its top
	Log     zerolog.Logger

	annotator  draw.Annotator
	mu         sync.Mutex
	svg        *diagram.Diagram // the last good cleaned diagram
	svgVersion int
	staleSince time.Time
	tmpl       *template.Template
	tmplErr    error
	tmplOnce   sync.Once
}

// Handler is the page's mux: public-safe, read-only.
func (p *Page) Handler() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.page)
	mux.HandleFunc("GET /status.json", p.json)
	mux.HandleFunc("GET /diagram.svg", p.diagramSVG)
	return mux
}

func (p *Page) template() (*template.Template, error) {
	p.tmplOnce.Do(func() {
		p.tmpl, p.tmplErr = template.New("page").Funcs(template.FuncMap{
			"ago": func(t time.Time) string { return ago(p.Source.Now(), t) }, "short": short,
			"words":   func(v string) string { return strings.ReplaceAll(v, "_", " ") },
			"seconds": func(s *int64) string { return duration(time.Duration(*s) * time.Second) },
			"commits": func(n int) string {
				if n == 1 {
					return "1 commit"
				}
				return fmt.Sprintf("%d commits", n)
			},
			"lead": func(secs *int64) string {
				if secs == nil {
					return "unknown"
				}
				return duration(time.Duration(*secs) * time.Second)
			},
		}).Parse(pageHTML)
	})
	return p.tmpl, p.tmplErr
}

// diagram is the cleaned diagram, fetched again when it changed; while it
// cannot be fetched, the last good one, with since when.
func (p *Page) diagram(ctx context.Context) (*diagram.Diagram, *time.Time) {
	raw, version, err := p.Diagram.Diagram(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil:
		if p.staleSince.IsZero() {
			p.staleSince = p.Source.Now().UTC()
		}
		p.Log.Warn().Err(err).Msg("Status page: the diagram cannot be fetched or read; showing the last one")
	case p.svg == nil || version != p.svgVersion:
		clean, err := svgclean.Clean(raw)
		if err != nil {
			p.Log.Warn().Err(err).Msg("Status page: the diagram cannot be cleaned; showing the last one")
			break
		}
		p.svg, p.svgVersion, p.staleSince = clean, version, time.Time{}
	default:
		p.staleSince = time.Time{}
	}
	if p.staleSince.IsZero() {
		return p.svg, nil
	}
	since := p.staleSince
	return p.svg, &since
}

// view is what the template renders.
type view struct {
	Title string
	*Snapshot
	SVG   template.HTML
	Links []Link
}

// Link is a page served beside the status page (the meetings).
type Link struct {
	Text, Href string
}

func (p *Page) page(w http.ResponseWriter, r *http.Request) {
	snap := p.Source.Snapshot(r.Context())
	svg, stale := p.diagram(r.Context())
	annotated := p.annotated(snap, svg)
	// Inline, the diagram is a picture for the eye: screen readers get
	// the caption and the table, and its links stay out of the tab order
	// (the table has them all).
	view := view{Title: p.Title, Snapshot: withStale(snap, stale), SVG: template.HTML(decorative(annotated)), Links: p.Links} // cleaned by svgclean
	tmpl, err := p.template()
	if err != nil {
		http.Error(w, "the page template is broken", http.StatusInternalServerError)
		return
	}
	var body bytes.Buffer
	if err := tmpl.Execute(&body, view); err != nil {
		p.Log.Error().Err(err).Msg("Status page: rendering failed")
		http.Error(w, "rendering failed", http.StatusInternalServerError)
		return
	}
	serve(w, r, "text/html; charset=utf-8", body.Bytes())
}

// diagramSVG serves the annotated diagram alone, to open at full size (on
// a phone the page scales it down).
func (p *Page) diagramSVG(w http.ResponseWriter, r *http.Request) {
	snap := p.Source.Snapshot(r.Context())
	svg, _ := p.diagram(r.Context())
	serve(w, r, "image/svg+xml", p.annotated(snap, svg))
}

// annotated is the diagram with each component's production commit.
func (p *Page) annotated(snap *Snapshot, d *diagram.Diagram) []byte {
	if d == nil {
		return nil
	}
	marks := map[string]draw.Mark{}
	for _, c := range snap.Components {
		if c.anchor != "" && c.SHA != "" {
			marks[c.anchor] = draw.Mark{Label: markLabel(c), Href: c.CommitURL, Title: c.Name + " runs " + c.SHA}
		}
	}
	annotated, _, err := p.annotator.Annotate(d, marks)
	if err != nil {
		return d.Bytes()
	}
	return annotated.Bytes()
}

func withStale(s *Snapshot, since *time.Time) *Snapshot {
	c := *s
	c.DiagramStaleSince = since
	return &c
}

func (p *Page) json(w http.ResponseWriter, r *http.Request) {
	snap := p.Source.Snapshot(r.Context())
	_, stale := p.diagram(r.Context())
	body, err := json.MarshalIndent(withStale(snap, stale), "", "  ")
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	serve(w, r, "application/json", append(body, '\n'))
}

// serve answers with body, or 304 when the client has it already.
func serve(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	Serve(w, r, contentType, body)
}

// Serve answers a public page's request as the status page does: an ETag
// (304 for a client that has it), a minute of caching, no sniffing, and a
// Content-Security-Policy that lets nothing run or load but the page's own
// style; the meetings' pages use it too.
func Serve(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Write(body)
}

func markLabel(c Component) string {
	if c.Behind == nil {
		return c.Short
	}
	if *c.Behind == 0 {
		return c.Short + " · up to date"
	}
	return fmt.Sprintf("%s · %d behind", c.Short, *c.Behind)
}

func short(sha string) string { return sha[:min(7, len(sha))] }

func duration(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d >= 730*day:
		return fmt.Sprintf("%d years", int(d/(365*day)))
	case d >= 60*day:
		return fmt.Sprintf("%d months", int(d/(30*day)))
	case d >= 48*time.Hour:
		return twoUnits(int(d.Hours())/24, "d", int(d.Hours())%24, "h")
	case d >= time.Hour:
		return twoUnits(int(d.Hours()), "h", int(d.Minutes())%60, "m")
	default:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
}

// twoUnits is "2d 3h", or "2d" when the smaller unit is zero.
func twoUnits(big int, bigUnit string, small int, smallUnit string) string {
	if small == 0 {
		return fmt.Sprintf("%d%s", big, bigUnit)
	}
	return fmt.Sprintf("%d%s %d%s", big, bigUnit, small, smallUnit)
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return duration(now.Sub(t)) + " ago"
}

var (
	svgStart  = regexp.MustCompile(`<svg\b`)
	linkStart = regexp.MustCompile(`<a\b`)
)

// decorative marks an inline diagram as a picture only: hidden from
// screen readers, its links out of the tab order (a mouse still follows
// them). The diagram comes from svgclean and the annotator, so its tags
// are plain: no "<a" or "<svg" in a comment or attribute survives them.
func decorative(svg []byte) []byte {
	out := svgStart.ReplaceAll(svg, []byte(`<svg aria-hidden="true" focusable="false"`))
	return linkStart.ReplaceAll(out, []byte(`<a tabindex="-1"`))
}
