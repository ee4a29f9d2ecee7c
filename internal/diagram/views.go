package diagram

import (
	"regexp"
	"strconv"
	"strings"
)

// Anchor is one link (<a>) of the diagram: on the architecture diagram,
// a component's box.
type Anchor struct {
	ID      string // stable across versions: a403 composer, a294 frontend, ...
	Href    string
	Label   string // the box's text, tspans joined: "image-builder-composer"
	Onclick string // a duplicate URL some versions carry on an inner <g>
}

// Anchors are the diagram's links in document order (a link inside
// another counts as part of the outer one).
func (d *Diagram) Anchors() []Anchor {
	var out []Anchor
	var visit func(e *Element)
	visit = func(e *Element) {
		if e.Name.Local == "a" {
			out = append(out, anchorOf(e))
			return
		}
		for _, c := range e.Children {
			if c, ok := c.(*Element); ok {
				visit(c)
			}
		}
	}
	visit(d.root)
	return out
}

func anchorOf(a *Element) Anchor {
	l := Anchor{ID: a.Get("id"), Href: a.Href()}
	for g := range a.Descendants(false) {
		if on := g.Get("onclick"); on != "" && g.Name.Local == "g" {
			l.Onclick = on
			break
		}
	}
	var pieces []string
	var collect func(e *Element, inText bool)
	collect = func(e *Element, inText bool) {
		for _, c := range e.Children {
			switch c := c.(type) {
			case *Element:
				if c.Name.Local == "tspan" {
					pieces = append(pieces, "")
				}
				collect(c, inText || c.Name.Local == "text" || c.Name.Local == "tspan")
			case Text:
				if inText {
					if len(pieces) == 0 {
						pieces = append(pieces, "")
					}
					pieces[len(pieces)-1] += strings.TrimSpace(string(c))
				}
			}
		}
	}
	collect(a, false)
	l.Label = joinLabel(pieces)
	return l
}

// joinLabel joins tspan pieces: "image-builder-" + "composer" has no
// space, "worker" + "fleet" has one.
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

// Label is one run of text at its place in the diagram's units, with what
// decides how it looks.
type Label struct {
	X, Y       float64
	Text       string
	Classes    []string // the CSS classes of the text and its tspan
	FontSize   float64  // the text element's own font-size, or 0
	Fill       string   // the text element's own fill, or ""
	FontFamily string   // the text element's own font-family, or ""
}

var translate = regexp.MustCompile(`translate\(\s*([-\d.eE]+)[\s,]+([-\d.eE]+)\s*\)`)

// Labels are the diagram's texts: each innermost tspan, or a text element
// without tspans, that has more than white space. A tspan's place is its
// text's (with its translate) moved by the tspan's own x and y; its
// classes are those of the text and of every tspan around it.
func (d *Diagram) Labels() []Label {
	var out []Label
	for t := range d.Elements() {
		if t.Name.Local != "text" {
			continue
		}
		x, y := 0.0, 0.0
		if m := translate.FindStringSubmatch(t.Get("transform")); m != nil {
			x, y = Number(m[1]), Number(m[2])
		}
		x, y = x+Number(t.Get("x")), y+Number(t.Get("y"))
		classes := strings.Fields(t.Get("class"))
		spans := innermostSpans(t, classes, func(s *Element, classes []string) {
			if text := s.Content(); strings.TrimSpace(text) != "" {
				out = append(out, Label{X: x + Number(s.Get("x")), Y: y + Number(s.Get("y")), Text: text, Classes: classes})
			}
		})
		if text := t.Content(); spans == 0 && strings.TrimSpace(text) != "" {
			out = append(out, Label{X: x, Y: y, Text: text, Classes: classes,
				FontSize: Number(t.Get("font-size")), Fill: t.Get("fill"), FontFamily: t.Get("font-family")})
		}
	}
	return out
}

// innermostSpans calls found for each tspan inside e with no tspan inside
// it, with the classes around it and its own, and counts the tspans.
func innermostSpans(e *Element, classes []string, found func(*Element, []string)) int {
	n := 0
	for _, c := range e.Children {
		s, ok := c.(*Element)
		if !ok {
			continue
		}
		if s.Name.Local != "tspan" {
			n += innermostSpans(s, classes, found)
			continue
		}
		own := append(append([]string{}, classes...), strings.Fields(s.Get("class"))...)
		if innermostSpans(s, own, found) == 0 {
			found(s, own)
		}
		n++
	}
	return n
}

// StyleSheet is the text of the diagram's <style> elements.
func (d *Diagram) StyleSheet() string {
	var b strings.Builder
	for e := range d.Elements() {
		if e.Name.Local == "style" {
			b.WriteString(e.Content())
		}
	}
	return b.String()
}

// Box is a rectangle: its corner and size in the diagram's units.
type Box struct{ X, Y, W, H float64 }

// BoxOf is the box of the element whose id is given: the first rect inside
// it (or itself) with a width and height. The last such element wins.
func (d *Diagram) BoxOf(id string) (Box, bool) {
	var box Box
	found := false
	for e := range d.Elements() {
		if e.Get("id") != id {
			continue
		}
		for r := range e.Descendants(true) {
			if b, ok := rectOf(r); ok {
				box, found = b, true
				break
			}
		}
	}
	return box, found
}

func rectOf(e *Element) (Box, bool) {
	if e.Name.Local != "rect" {
		return Box{}, false
	}
	w, werr := strconv.ParseFloat(e.Get("width"), 64)
	h, herr := strconv.ParseFloat(e.Get("height"), 64)
	if werr != nil || herr != nil {
		return Box{}, false
	}
	x, _ := strconv.ParseFloat(e.Get("x"), 64)
	y, _ := strconv.ParseFloat(e.Get("y"), 64)
	return Box{x, y, w, h}, true
}

// Number reads an SVG number, 0 when it is not one.
func Number(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f
}

// WithAfter is a copy of the diagram with nodes added after each element
// that after gives some for (the annotator's marks beside their boxes).
func (d *Diagram) WithAfter(after func(e *Element) []Node) (*Diagram, error) {
	root := copyWithAfter(d.root, after)
	top := make([]Node, len(d.top))
	for i, n := range d.top {
		if n == Node(d.root) {
			n = root
		}
		top[i] = n
	}
	return build(top, root)
}

func copyWithAfter(e *Element, after func(*Element) []Node) *Element {
	c := &Element{Name: e.Name, Attr: e.Attr, Children: make([]Node, 0, len(e.Children))}
	for _, n := range e.Children {
		el, ok := n.(*Element)
		if !ok {
			c.Children = append(c.Children, n)
			continue
		}
		c.Children = append(c.Children, copyWithAfter(el, after))
		c.Children = append(c.Children, after(el)...)
	}
	return c
}
