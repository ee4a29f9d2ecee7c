package prodhash

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/diagram"
)

// Found is what a source knows about one component in production.
type Found struct {
	SHA    string
	AsOf   time.Time // when the source's data was last changed, if known
	Source string    // for people: "architecture diagram"
	Link   string    // where the source says it (the diagram's link)
}

// Source tells which commit of a component runs in production.
type Source interface {
	Lookup(ctx context.Context, comp *catalog.Component) (Found, error)
}

// ErrNoHash means the source knows the component but names no commit (the
// oldest diagrams link to bare repositories).
var ErrNoHash = errors.New("the source names no commit for it")

// DiagramSource reads production commits from the links of the published
// architecture diagram. "As of" is the last commit that changed the file,
// asked of GitHub only when the file changes.
type DiagramSource struct {
	doc     *document
	catalog *catalog.Catalog
	gh      *github.Client

	mu          sync.Mutex
	parsed      int // doc version the four fields below belong to
	model       *diagram.Diagram
	links       []DiagramLink
	readErr     error // why that version has no model or no links
	asOf        time.Time
	asOfVersion int
}

// NewDiagramSource reads the diagram at svgURL; gh (may be nil) dates it.
func NewDiagramSource(svgURL string, cat *catalog.Catalog, gh *github.Client, hc *http.Client, ttl time.Duration, now func() time.Time) *DiagramSource {
	return &DiagramSource{
		doc:     &document{url: svgURL, client: cachingClient(hc), ttl: ttl, now: now, limit: maxDiagramBytes},
		catalog: cat, gh: gh,
	}
}

// Diagram returns the current diagram, parsed once per version, and a
// version that changes with it.
func (s *DiagramSource) Diagram(ctx context.Context) (*diagram.Diagram, int, error) {
	body, version, err := s.doc.get(ctx)
	if err != nil {
		return nil, version, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read(body, version)
	if s.model == nil {
		return nil, version, s.readErr
	}
	return s.model, version, nil
}

// read parses a version of the diagram it has not parsed yet.
func (s *DiagramSource) read(body []byte, version int) {
	if version == s.parsed && (s.model != nil || s.readErr != nil) {
		return
	}
	s.parsed, s.model, s.links = version, nil, nil
	s.model, s.readErr = diagram.Parse(body)
	if s.readErr == nil {
		s.links, s.readErr = DiagramLinks(s.model)
	}
}

// Lookup finds the component's link by its anchor id, or by repository.
func (s *DiagramSource) Lookup(ctx context.Context, comp *catalog.Component) (Found, error) {
	links, asOf, err := s.current(ctx)
	if err != nil {
		return Found{}, err
	}
	for _, l := range links {
		if (comp.DiagramAnchor != "" && l.AnchorID == comp.DiagramAnchor) ||
			strings.EqualFold(s.catalog.CanonicalRepo(l.Repo), comp.Repo) {
			if l.SHA == "" {
				return Found{Source: "architecture diagram", AsOf: asOf, Link: l.Href}, ErrNoHash
			}
			return Found{SHA: l.SHA, AsOf: asOf, Source: "architecture diagram", Link: l.Href}, nil
		}
	}
	return Found{}, fmt.Errorf("the architecture diagram has no link for %s", comp.Name)
}

func (s *DiagramSource) current(ctx context.Context) ([]DiagramLink, time.Time, error) {
	body, version, err := s.doc.get(ctx)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("fetching the architecture diagram: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.read(body, version); s.links == nil {
		return nil, time.Time{}, s.readErr
	}
	if s.asOfVersion != version || s.asOf.IsZero() {
		s.asOf = s.lastChange(ctx)
		s.asOfVersion = version
	}
	return s.links, s.asOf, nil
}

// lastChange asks GitHub when the diagram file last changed, for a URL of
// the raw.githubusercontent.com shape /{owner}/{repo}/{ref}/{path}; it falls
// back to the server's Last-Modified.
func (s *DiagramSource) lastChange(ctx context.Context) time.Time {
	fallback := s.doc.lastModifiedTime()
	u, err := url.Parse(s.doc.url)
	parts := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 4)
	if err != nil || s.gh == nil || len(parts) < 4 {
		return fallback
	}
	commits, _, err := s.gh.Repositories.ListCommits(ctx, parts[0], parts[1], &github.CommitsListOptions{
		SHA: parts[2], Path: parts[3], ListOptions: github.ListOptions{PerPage: 1},
	})
	if err != nil || len(commits) == 0 {
		return fallback
	}
	return commits[0].GetCommit().GetCommitter().GetDate().Time
}

// JSONSource reads a commit from a field of a JSON document, such as the
// frontend build's app.info.json ("src_hash").
type JSONSource struct {
	doc   *document
	field string
	name  string
}

// NewJSONSource reads field (dots for nesting: "build.commit") from the
// JSON at rawURL; header, when set, is sent with every request (auth).
func NewJSONSource(rawURL, field string, header http.Header, hc *http.Client, ttl time.Duration, now func() time.Time) *JSONSource {
	host := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		host = u.Host
	}
	return &JSONSource{
		doc:   &document{url: rawURL, header: header, client: cachingClient(hc), ttl: ttl, now: now, limit: 1 << 20},
		field: field, name: host,
	}
}

// Lookup fetches the document and reads the field.
func (s *JSONSource) Lookup(ctx context.Context, _ *catalog.Component) (Found, error) {
	body, _, err := s.doc.get(ctx)
	if err != nil {
		return Found{}, fmt.Errorf("fetching %s: %w", s.name, err)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return Found{}, fmt.Errorf("%s did not send JSON: %w", s.name, err)
	}
	for _, key := range strings.Split(s.field, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return Found{}, fmt.Errorf("%s has no field %q", s.name, s.field)
		}
		v = obj[key]
	}
	sha, _ := v.(string)
	sha = strings.ToLower(strings.TrimSpace(sha))
	if !shaPattern.MatchString(sha) {
		return Found{}, fmt.Errorf("%s field %q is %v, not a commit", s.name, s.field, v)
	}
	return Found{SHA: sha, Source: s.name, AsOf: s.doc.lastModifiedTime()}, nil
}

// StaticSource is a commit the operator knows and writes in the config.
type StaticSource struct{ SHA string }

// Lookup returns the configured commit.
func (s StaticSource) Lookup(context.Context, *catalog.Component) (Found, error) {
	return Found{SHA: strings.ToLower(s.SHA), Source: "ibbot's configuration"}, nil
}
