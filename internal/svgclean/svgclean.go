// Package svgclean makes an SVG from outside (the published architecture
// diagram) safe to show inside ibbot's own page: elements that run code or
// load things (script, foreignObject, image, iframe...) are dropped with
// their content, event-handler attributes are dropped, links other than
// fragment references (#id) are dropped, and a style sheet is kept only if
// it loads nothing (no url() but to #fragments, no @import). What remains
// draws the same shapes, colours and text.
package svgclean

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
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
			t.Attr = cleanAttrs(t.Attr)
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

func cleanAttrs(attrs []xml.Attr) []xml.Attr {
	var out []xml.Attr
	for _, a := range attrs {
		name := strings.ToLower(a.Name.Local)
		switch {
		case strings.HasPrefix(name, "on"): // onclick, onload, ...
		case name == "href" && !strings.HasPrefix(strings.TrimSpace(a.Value), "#"):
		case name == "style" && unsafeStyle(a.Value):
		case a.Name.Space == "xmlns" || name == "xmlns":
			// namespace declarations are written again by the page
		default:
			a.Name.Space = ""
			if name != "xlink:href" {
				out = append(out, a)
			}
		}
	}
	return out
}

// writeStyle keeps a style sheet that loads and runs nothing.
func writeStyle(enc *xml.Encoder, css string) error {
	if unsafeStyle(css) || strings.Contains(css, "<") {
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

// unsafeStyle spots styles that load or run something.
func unsafeStyle(v string) bool {
	v = strings.ToLower(strings.ReplaceAll(v, " ", ""))
	return strings.Contains(v, "url(") && !strings.Contains(v, "url(#") || strings.Contains(v, "expression(") ||
		strings.Contains(v, "javascript:") || strings.Contains(v, "@import")
}
