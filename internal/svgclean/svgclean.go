// Package svgclean makes an SVG from outside (the published architecture
// diagram) safe to show inside ibbot's own page. It keeps by allow-lists:
// elements that only draw (script, foreignObject, image, iframe... are
// dropped with their content), attributes that only draw or name things
// (event handlers, unknown and namespaced attributes are dropped), links
// only to fragments (#id). Every value and style sheet is read as CSS
// reads it (comments dropped, escapes such as \75 rl( decoded) and kept
// only if it references nothing outside the document: every url() is a
// #fragment, and no @import, image-set(), expression() or scheme. What
// remains draws the same shapes, colours and text.
package svgclean

import (
	"encoding/xml"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/osbuild/ibbot/internal/diagram"
)

// allowed are the SVG elements that only draw.
var allowed = map[string]bool{
	"svg": true, "g": true, "defs": true, "rect": true, "circle": true, "ellipse": true, "line": true,
	"polyline": true, "polygon": true, "path": true, "text": true, "tspan": true, "title": true, "desc": true,
	"linearGradient": true, "radialGradient": true, "stop": true, "clipPath": true, "mask": true,
	"pattern": true, "marker": true, "symbol": true, "use": true, "a": true, "switch": true,
}

// Clean returns the diagram without anything that could run or load.
func Clean(d *diagram.Diagram) (*diagram.Diagram, error) {
	root := cleanElement(d.Root())
	dropUnusedIDs(root, referenced(root))
	return diagram.New(root)
}

// cleanElement is a copy of e with the elements and attributes kept;
// comments, processing instructions and DOCTYPE with its entities are
// dropped. A <style> element's text is kept only as a whole.
func cleanElement(e *diagram.Element) *diagram.Element {
	c := &diagram.Element{Name: xml.Name{Local: e.Name.Local}, Attr: cleanAttrs(e.Attr)}
	for _, n := range e.Children {
		switch n := n.(type) {
		case diagram.Text:
			c.Children = append(c.Children, n)
		case *diagram.Element:
			switch {
			case n.Name.Local == "style":
				if css := styleText(n); !External(css) && !strings.Contains(css, "<") {
					c.Children = append(c.Children, &diagram.Element{Name: xml.Name{Local: "style"}, Children: []diagram.Node{diagram.Text(css)}})
				}
			case allowed[n.Name.Local]:
				c.Children = append(c.Children, cleanElement(n))
			}
		}
	}
	return c
}

// styleText is a style sheet's own text; a style element with elements
// inside is not one.
func styleText(e *diagram.Element) string {
	var b strings.Builder
	for _, n := range e.Children {
		if t, ok := n.(diagram.Text); ok {
			b.WriteString(string(t))
		}
	}
	return b.String()
}

// drawing are the attributes kept: geometry, presentation, text layout,
// paint servers, naming and accessibility. Lower case.
var drawing = setOf(
	"id", "class", "style", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr",
	"width", "height", "d", "points", "transform", "viewbox", "preserveaspectratio", "version",
	"fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-dasharray", "stroke-dashoffset",
	"stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-opacity", "opacity", "color", "visibility",
	"display", "overflow", "vector-effect", "shape-rendering", "text-rendering", "paint-order",
	"font-family", "font-size", "font-weight", "font-style", "font-variant", "font-stretch", "text-anchor",
	"dominant-baseline", "alignment-baseline", "baseline-shift", "letter-spacing", "word-spacing",
	"text-decoration", "writing-mode", "direction", "dx", "dy", "rotate", "textlength", "lengthadjust",
	"offset", "stop-color", "stop-opacity", "gradientunits", "gradienttransform", "spreadmethod",
	"patternunits", "patterncontentunits", "patterntransform", "clippathunits", "maskunits", "maskcontentunits",
	"clip-path", "clip-rule", "mask", "marker-start", "marker-mid", "marker-end", "markerwidth", "markerheight",
	"markerunits", "refx", "refy", "orient", "href", "xlink:href", "role", "aria-label", "aria-hidden", "focusable",
)

// camelCase is how SVG spells the attributes drawing lower-cases: an SVG
// read as XML (a renderer, a file opened alone) knows only these.
var camelCase = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"viewBox", "preserveAspectRatio", "textLength", "lengthAdjust", "gradientUnits",
		"gradientTransform", "spreadMethod", "patternUnits", "patternContentUnits", "patternTransform", "clipPathUnits",
		"maskUnits", "maskContentUnits", "markerWidth", "markerHeight", "markerUnits", "refX", "refY"} {
		m[strings.ToLower(n)] = n
	}
	return m
}()

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	reference = regexp.MustCompile(`url\(\s*['"]?#([^'")\s]+)`)
	fragment  = regexp.MustCompile(`^\s*#([^'")\s]+)`)
)

// referenced are the ids the cleaned drawing points at: url(#id) in a
// value or style sheet, href="#id".
func referenced(root *diagram.Element) map[string]bool {
	refs := map[string]bool{}
	add := func(v string) {
		for _, m := range reference.FindAllStringSubmatch(v, -1) {
			refs[m[1]] = true
		}
	}
	for e := range root.Descendants(true) {
		if e.Name.Local == "style" {
			add(e.Content())
		}
		for _, a := range e.Attr {
			add(a.Value)
			if m := fragment.FindStringSubmatch(a.Value); m != nil && a.Name.Local == "href" {
				refs[m[1]] = true
			}
		}
	}
	return refs
}

// dropUnusedIDs leaves out the ids an editor numbers every element with
// (Inkscape's "g12", "tspan6"): only ids something points at, and those
// of links and the root (the anchors a diagram's components are found
// by), stay, so the page around an inline diagram meets none of them.
func dropUnusedIDs(root *diagram.Element, refs map[string]bool) {
	for e := range root.Descendants(true) {
		if e.Name.Local != "a" && e.Name.Local != "svg" {
			e.Attr = slices.DeleteFunc(e.Attr, func(a xml.Attr) bool { return a.Name.Local == "id" && !refs[a.Value] })
		}
	}
}

func cleanAttrs(attrs []xml.Attr) []xml.Attr {
	var out []xml.Attr
	for _, a := range attrs {
		name := strings.ToLower(a.Name.Local)
		if a.Name.Space == "xlink" || a.Name.Space == "http://www.w3.org/1999/xlink" {
			name = "xlink:href" // written as href below
			if !strings.EqualFold(a.Name.Local, "href") {
				continue
			}
		} else if a.Name.Space != "" && a.Name.Space != "xml" {
			continue // another vocabulary's (inkscape:, sodipodi:) or a namespace declaration
		}
		if !keep(name, a.Value) {
			continue
		}
		if name == "xlink:href" {
			name = "href"
		}
		if c, ok := camelCase[name]; ok {
			name = c
		}
		out = append(out, xml.Attr{Name: xml.Name{Local: name}, Value: a.Value})
	}
	return dedupe(out)
}

// keep reports whether an attribute may stay: an allowed name, a link only
// to a fragment, and a value that references nothing outside.
func keep(name, value string) bool {
	switch {
	case !drawing[name]:
		return false
	case name == "href" || name == "xlink:href":
		return strings.HasPrefix(strings.TrimSpace(value), "#") && !External(value)
	default:
		return !External(value)
	}
}

// dedupe keeps the first of attributes sharing a name (href and
// xlink:href both became href).
func dedupe(attrs []xml.Attr) []xml.Attr {
	seen := map[string]bool{}
	return slices.DeleteFunc(attrs, func(a xml.Attr) bool {
		if seen[a.Name.Local] {
			return true
		}
		seen[a.Name.Local] = true
		return false
	})
}

// External reports whether CSS text (a style sheet, a style attribute or a
// presentation value) could reference or run anything outside the
// document, read as a browser reads it: comments dropped, escapes decoded,
// case ignored. Only url(#fragment) references pass; anything that looks
// like an address ("//", with or without a scheme) does not.
func External(css string) bool {
	v := strings.ToLower(DecodeCSS(css))
	for _, bad := range []string{"@import", "image-set(", "expression(", "javascript:", "-moz-binding", "behavior:", "src(", "image(", "element(", "cross-fade(", "//", "@font-face", "@namespace"} {
		if strings.Contains(v, bad) {
			return true
		}
	}
	for rest := v; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			return false
		}
		rest = rest[i+len("url("):]
		target := strings.TrimLeft(rest, " \t\n\r\f\"'")
		if !strings.HasPrefix(target, "#") {
			return true
		}
	}
}

// DecodeCSS drops comments and decodes escapes as CSS does: a backslash
// and up to six hex digits (and one optional space) is that code point; a
// backslash and another character is that character.
func DecodeCSS(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += end + 3
		case s[i] == '\\' && i+1 < len(s):
			j := i + 1
			for j < len(s) && j < i+7 && isHex(s[j]) {
				j++
			}
			if j == i+1 { // not hex: the character itself
				b.WriteByte(s[j])
				i = j
				continue
			}
			n, _ := strconv.ParseUint(s[i+1:j], 16, 32)
			if n == 0 || n > unicode.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
				n = unicode.ReplacementChar
			}
			b.WriteRune(rune(n))
			if j < len(s) && strings.ContainsRune(" \t\n\r\f", rune(s[j])) {
				j++
			}
			i = j - 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
