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
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// allowed are the SVG elements that only draw.
var allowed = map[string]bool{
	"svg": true, "g": true, "defs": true, "rect": true, "circle": true, "ellipse": true, "line": true,
	"polyline": true, "polygon": true, "path": true, "text": true, "tspan": true, "title": true, "desc": true,
	"linearGradient": true, "radialGradient": true, "stop": true, "clipPath": true, "mask": true,
	"pattern": true, "marker": true, "symbol": true, "use": true, "a": true, "switch": true,
}

// maxDepth bounds nesting, so a hostile file cannot exhaust the stack of
// whoever renders it.
const maxDepth = 256

// Clean returns svg without anything that could run or load.
func Clean(svg []byte) ([]byte, error) {
	refs := referenced(svg)
	dec := xml.NewDecoder(bytes.NewReader(svg))
	dec.Strict = false
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	skip, depth := 0, 0     // skip > 0: inside a dropped element
	var style *bytes.Buffer // collecting a <style> element's text
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return nil, errors.New("svgclean: elements nested too deep")
			}
			if skip > 0 || (!allowed[t.Name.Local] && t.Name.Local != "style") || style != nil {
				skip++
				continue
			}
			if t.Name.Local == "style" {
				style = &bytes.Buffer{}
				continue
			}
			t.Attr = dropUnusedID(t.Name.Local, cleanAttrs(t.Attr), refs)
			t.Name.Space = ""
			if err := enc.EncodeToken(t); err != nil {
				return nil, err
			}
		case xml.EndElement:
			depth--
			if skip > 0 {
				skip--
				continue
			}
			if style != nil {
				if err := writeStyle(enc, style.String()); err != nil {
					return nil, err
				}
				style = nil
				continue
			}
			t.Name.Space = ""
			if err := enc.EncodeToken(t); err != nil {
				return nil, err
			}
		case xml.CharData:
			switch {
			case skip > 0:
			case style != nil:
				style.Write(t)
			default:
				enc.EncodeToken(t)
			}
		}
		// Comments, processing instructions and directives (DOCTYPE with
		// its entities) are dropped.
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	if depth != 0 {
		return nil, errors.New("svgclean: unbalanced elements")
	}
	return out.Bytes(), nil
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

var reference = regexp.MustCompile(`(?:url\(\s*['"]?|href\s*=\s*['"])#([^'")\s]+)`)

// referenced are the ids something in svg points at (url(#id), href="#id").
func referenced(svg []byte) map[string]bool {
	refs := map[string]bool{}
	for _, m := range reference.FindAllSubmatch(svg, -1) {
		refs[string(m[1])] = true
	}
	return refs
}

// dropUnusedID leaves out the ids an editor numbers every element with
// (Inkscape's "g12", "tspan6"): only ids something points at, and those
// of links and the root (the anchors a diagram's components are found
// by), stay, so the page around an inline diagram meets none of them.
func dropUnusedID(element string, attrs []xml.Attr, refs map[string]bool) []xml.Attr {
	if element == "a" || element == "svg" {
		return attrs
	}
	return slices.DeleteFunc(attrs, func(a xml.Attr) bool { return a.Name.Local == "id" && !refs[a.Value] })
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

// writeStyle keeps a style sheet that references nothing outside.
func writeStyle(enc *xml.Encoder, css string) error {
	if External(css) || strings.Contains(css, "<") {
		return nil
	}
	start := xml.StartElement{Name: xml.Name{Local: "style"}}
	for _, tok := range []xml.Token{start, xml.CharData(css), start.End()} {
		if err := enc.EncodeToken(tok); err != nil {
			return err
		}
	}
	return nil
}

// External reports whether CSS text (a style sheet, a style attribute or a
// presentation value) could reference or run anything outside the
// document, read as a browser reads it: comments dropped, escapes decoded,
// case ignored. Only url(#fragment) references pass.
func External(css string) bool {
	v := strings.ToLower(DecodeCSS(css))
	for _, bad := range []string{"@import", "image-set(", "expression(", "javascript:", "-moz-binding", "behavior:", "src(", "image(", "element(", "cross-fade(", "://", "@font-face", "@namespace"} {
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
