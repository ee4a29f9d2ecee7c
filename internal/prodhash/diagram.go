// Package prodhash finds out which commit of each hosted-service component
// runs in production, from pluggable sources: the published architecture
// diagram (default), an HTTP JSON endpoint, or a static value.
package prodhash

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/osbuild/ibbot/internal/diagram"
)

// DiagramLink is one linked box of the architecture diagram.
type DiagramLink struct {
	AnchorID string // stable across versions: a403 composer, a294 frontend, ...
	Label    string // the box's text, tspans joined: "image-builder-composer"
	Href     string
	Repo     string // owner/name as linked
	URLKind  string // "tree", "commits", "commit" or "" for a bare repo link
	SHA      string // "" when the link names no commit
	Onclick  string // a duplicate URL some versions carry on an inner <g>
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// maxDiagramBytes bounds what is fetched and parsed.
const maxDiagramBytes = diagram.MaxBytes

// ParseDiagram extracts the GitHub links of a diagram file. It reports an
// error, never a panic, for anything that is not an SVG with such links.
func ParseDiagram(r io.Reader) ([]DiagramLink, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDiagramBytes))
	if err != nil {
		return nil, err
	}
	d, err := diagram.Parse(data)
	if err != nil {
		return nil, err
	}
	return DiagramLinks(d)
}

// DiagramLinks are the diagram's links to GitHub.
func DiagramLinks(d *diagram.Diagram) ([]DiagramLink, error) {
	var links []DiagramLink
	for _, a := range d.Anchors() {
		l := DiagramLink{AnchorID: a.ID, Label: a.Label, Href: a.Href, Onclick: a.Onclick}
		if err := l.parseHref(); err == nil {
			links = append(links, l)
		}
	}
	if len(links) == 0 {
		return nil, errors.New("diagram has no GitHub links")
	}
	return links, nil
}

// parseHref fills Repo, URLKind and SHA from a github.com link.
func (l *DiagramLink) parseHref() error {
	u, err := url.Parse(l.Href)
	if err != nil || !strings.EqualFold(u.Host, "github.com") {
		return fmt.Errorf("not a GitHub link: %q", l.Href)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("no repository in %q", l.Href)
	}
	l.Repo = parts[0] + "/" + parts[1]
	if len(parts) >= 4 && (parts[2] == "tree" || parts[2] == "commits" || parts[2] == "commit") {
		if sha := strings.ToLower(parts[3]); shaPattern.MatchString(sha) {
			l.URLKind, l.SHA = parts[2], sha
		}
	}
	return nil
}
