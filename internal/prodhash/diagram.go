// Package prodhash finds out which commit of each hosted-service component
// runs in production, from pluggable sources: the published architecture
// diagram (default), an HTTP JSON endpoint, or a static value.
package prodhash

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
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

// maxDiagramBytes bounds what the parser reads; the real file is ~11 kB.
const maxDiagramBytes = 4 << 20

// ParseDiagram extracts the GitHub links of the diagram. It reports an
// error, never a panic, for anything that is not an SVG with such links.
func ParseDiagram(r io.Reader) ([]DiagramLink, error) {
	dec := xml.NewDecoder(io.LimitReader(r, maxDiagramBytes))
	dec.Strict = true
	var (
		links   []DiagramLink
		cur     *DiagramLink
		depth   int // element depth inside the current <a>
		inText  int
		pieces  []string
		sawRoot bool
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("diagram is not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !sawRoot {
				if t.Name.Local != "svg" {
					return nil, fmt.Errorf("diagram's root element is <%s>, not <svg>", t.Name.Local)
				}
				sawRoot = true
			}
			if cur == nil {
				if t.Name.Local == "a" {
					cur = &DiagramLink{AnchorID: attr(t, "id"), Href: href(t)}
					depth, pieces = 0, nil
				}
				continue
			}
			depth++
			if t.Name.Local == "text" || t.Name.Local == "tspan" {
				inText++
				if t.Name.Local == "tspan" {
					pieces = append(pieces, "")
				}
			}
			if on := attr(t, "onclick"); on != "" && t.Name.Local == "g" && cur.Onclick == "" {
				cur.Onclick = on
			}
		case xml.CharData:
			if cur != nil && inText > 0 {
				if len(pieces) == 0 {
					pieces = append(pieces, "")
				}
				pieces[len(pieces)-1] += strings.TrimSpace(string(t))
			}
		case xml.EndElement:
			if cur == nil {
				continue
			}
			if depth == 0 { // </a>
				cur.Label = joinLabel(pieces)
				if err := cur.parseHref(); err == nil {
					links = append(links, *cur)
				}
				cur = nil
				continue
			}
			depth--
			if t.Name.Local == "text" || t.Name.Local == "tspan" {
				inText--
			}
		}
	}
	if !sawRoot {
		return nil, errors.New("diagram is empty")
	}
	if len(links) == 0 {
		return nil, errors.New("diagram has no GitHub links")
	}
	return links, nil
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// href reads xlink:href, or plain href (SVG 2).
func href(t xml.StartElement) string {
	var plain string
	for _, a := range t.Attr {
		if a.Name.Local == "href" {
			if a.Name.Space != "" {
				return a.Value
			}
			plain = a.Value
		}
	}
	return plain
}

// joinLabel joins tspan pieces: "image-builder-" + "composer" has no space,
// "worker" + "fleet" has one.
func joinLabel(pieces []string) string {
	var b strings.Builder
	for _, p := range pieces {
		if p == "" {
			continue
		}
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
			b.WriteByte(' ')
		}
		b.WriteString(p)
	}
	return b.String()
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
