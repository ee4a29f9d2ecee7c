package docs

import (
	"bytes"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Page is one documentation page, cut into the sections a search answers
// with.
type Page struct {
	Path     string // under the docs folder: "user-guide/01-blueprint-reference.md"
	Title    string
	Address  string // the page's address on the site
	Sections []Section
}

// Section is a page's introduction (no heading) or one ## or ### heading
// with the text under it up to the next one.
type Section struct {
	Heading string // "" for the introduction
	Level   int    // 2 or 3; 0 for the introduction
	Address string // the page's address, with the heading's anchor
	Text    string // the text, markup read away, code kept
}

// frontMatter is what Docusaurus reads of a page's front matter that
// decides its address and title.
type frontMatter struct {
	ID    string `yaml:"id"`
	Slug  string `yaml:"slug"`
	Title string `yaml:"title"`
}

// ParsePage reads a page of the docs folder (markdown or MDX) at rel (its
// path under the folder) for a site whose docs are at base
// ("https://osbuild.org/docs/"). A broken front matter is an error: the
// address it would give cannot be known.
func ParsePage(rel string, body []byte, base string) (Page, error) {
	fm, rest, err := splitFrontMatter(body)
	if err != nil {
		return Page{}, fmt.Errorf("%s: front matter: %w", rel, err)
	}
	p := Page{Path: rel, Title: fm.Title, Address: PageAddress(base, rel, fm.ID, fm.Slug)}
	p.Sections = sections(clean(rest), p.Address)
	if h1, ok := firstTitle(rest); ok && p.Title == "" {
		p.Title = h1
	}
	if p.Title == "" {
		p.Title = strings.TrimSuffix(stripNumberPrefix(path.Base(rel)), path.Ext(rel))
	}
	return p, nil
}

func splitFrontMatter(body []byte) (frontMatter, []byte, error) {
	var fm frontMatter
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	if !bytes.HasPrefix(body, []byte("---\n")) && !bytes.HasPrefix(body, []byte("---\r\n")) {
		return fm, body, nil
	}
	rest := body[bytes.IndexByte(body, '\n')+1:]
	end := regexp.MustCompile(`(?m)^---\s*$`).FindIndex(rest)
	if end == nil {
		return fm, body, fmt.Errorf("no closing ---")
	}
	if err := yaml.Unmarshal(rest[:end[0]], &fm); err != nil {
		return fm, body, err
	}
	return fm, rest[end[1]:], nil
}

// PageAddress is where Docusaurus publishes the page at rel: the front
// matter's slug if it has one (from the docs root when it starts with /,
// else from the page's folder); else the path with number prefixes ("01-")
// dropped from every segment, the id in place of the file name, and an
// index or README page (or one named as its folder) standing for its
// folder. Addresses end in a slash, as osbuild.org's do.
func PageAddress(base, rel, id, slug string) string {
	dir, file := path.Split(strings.TrimPrefix(path.Clean("/"+rel), "/"))
	var segs []string
	for _, s := range strings.Split(strings.Trim(dir, "/"), "/") {
		if s != "" {
			segs = append(segs, stripNumberPrefix(s))
		}
	}
	name := strings.TrimSuffix(file, path.Ext(file))
	switch {
	case slug != "" && strings.HasPrefix(slug, "/"):
		return joinAddress(base, []string{strings.Trim(slug, "/")})
	case slug != "":
		return joinAddress(base, append(segs, strings.Trim(slug, "/")))
	case isFolderIndex(name, segs):
		return joinAddress(base, segs)
	case id != "":
		return joinAddress(base, append(segs, id))
	default:
		return joinAddress(base, append(segs, stripNumberPrefix(name)))
	}
}

func isFolderIndex(name string, segs []string) bool {
	n := strings.ToLower(name)
	return n == "index" || n == "readme" || (len(segs) > 0 && n == strings.ToLower(segs[len(segs)-1]))
}

// joinAddress is base and the segments, each escaped as a path segment
// (a file name may hold a space), ending in a slash.
func joinAddress(base string, segs []string) string {
	out := strings.TrimSuffix(base, "/") + "/"
	for _, s := range segs {
		for _, part := range strings.Split(s, "/") {
			if part != "" {
				out += url.PathEscape(part) + "/"
			}
		}
	}
	return out
}

// numberPrefix is Docusaurus's: digits, then separators, then a name that
// does not start with one ("01-intro", "1_intro", "10. intro"); what looks
// like a date ("2021-01-notes") keeps its digits.
var (
	numberPrefix = regexp.MustCompile(`^\d+\s*[-_.]+\s*([^-_.\s].*)$`)
	dateLike     = regexp.MustCompile(`^\d+[-_.]\d+`)
)

func stripNumberPrefix(s string) string {
	if m := numberPrefix.FindStringSubmatch(s); m != nil && !dateLike.MatchString(s) {
		return m[1]
	}
	return s
}

// Anchor is the id Docusaurus gives a heading: {#custom-id} when written,
// else github-slugger's: lower case, punctuation dropped, spaces to
// hyphens.
func Anchor(heading string) (text, anchor string) {
	text = strings.TrimSpace(heading)
	if m := customID.FindStringSubmatch(text); m != nil {
		return strings.TrimSpace(m[1]), m[2]
	}
	text = inlineText(text)
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return text, b.String()
}

var customID = regexp.MustCompile(`^(.*?)\s*\{#([^}\s]+)\}$`)
