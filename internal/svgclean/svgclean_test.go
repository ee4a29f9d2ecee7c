package svgclean

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/osbuild/ibbot/internal/fixtures"
)

const hostile = `<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY x "boom">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)" width="100" height="50">
  <script>alert(2)</script>
  <style>@import url(https://evil.example/x.css);</style>
  <a xlink:href="https://evil.example/" href="javascript:alert(3)" onclick="alert(4)"><rect x="1" y="1" width="10" height="10" style="fill:url(https://evil.example/p)"/></a>
  <image href="https://evil.example/tracker.png"/>
  <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
  <use href="#box"/>
  <text x="5" y="30" fill="#333">image-builder-<tspan>composer</tspan></text>
</svg>`

// TestHostileDiagramIsDefused: nothing that runs or loads survives, the
// drawing does.
func TestHostileDiagramIsDefused(t *testing.T) {
	out, err := Clean([]byte(hostile))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, bad := range []string{"<script", "alert", "onload", "onclick", "evil.example", "javascript:", "<image", "foreignObject", "<style", "ENTITY", "boom"} {
		if strings.Contains(s, bad) {
			t.Errorf("cleaned SVG still has %q:\n%s", bad, s)
		}
	}
	for _, good := range []string{"<rect", `href="#box"`, "image-builder-", "<tspan>composer</tspan>", `width="100"`} {
		if !strings.Contains(s, good) {
			t.Errorf("cleaned SVG lost %q:\n%s", good, s)
		}
	}
}

// TestRealDiagramKeepsItsDrawing: the published diagram keeps its labels.
func TestRealDiagramKeepsItsDrawing(t *testing.T) {
	out, err := Clean(fixtures.Read(fixtures.DiagramNewest))
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"composer", "worker", "<rect", "<text", "<style>", ".cls-6"} {
		if !strings.Contains(string(out), label) {
			t.Errorf("the cleaned diagram lost %q", label)
		}
	}
	if strings.Contains(string(out), "onclick") || strings.Contains(string(out), "https://github.com") {
		t.Error("the cleaned diagram keeps its own links or handlers")
	}
}

func FuzzClean(f *testing.F) {
	f.Add([]byte(hostile))
	f.Add(fixtures.Read(fixtures.DiagramNewest))
	f.Add([]byte(`<svg><a href="JaVaScRiPt:x"><text>t</text></a></svg>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Clean(in)
		if err != nil {
			return
		}
		if problem := unsafeMarkup(out); problem != "" {
			t.Fatalf("cleaned output has %s: %q", problem, out)
		}
		again, err := Clean(out)
		if err != nil {
			t.Fatalf("cleaned output does not clean again: %v", err)
		}
		if string(again) != string(out) {
			t.Fatalf("cleaning is not stable:\n%q\n%q", out, again)
		}
	})
}

// unsafeMarkup reads cleaned output as XML and names the first element or
// attribute that could run or load something.
func unsafeMarkup(out []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(out))
	dec.Strict = false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !allowed[start.Name.Local] && start.Name.Local != "style" {
			return "element " + start.Name.Local
		}
		for _, a := range start.Attr {
			name := strings.ToLower(a.Name.Local)
			switch {
			case strings.HasPrefix(name, "on"):
				return "attribute " + name
			case name == "href" && !strings.HasPrefix(strings.TrimSpace(a.Value), "#"):
				return "link " + a.Value
			case name == "style" && unsafeStyle(a.Value):
				return "style " + a.Value
			}
		}
		if start.Name.Local == "style" {
			if text, err := dec.Token(); err == nil {
				if css, ok := text.(xml.CharData); ok && unsafeStyle(string(css)) {
					return "style sheet " + string(css)
				}
			}
		}
	}
}
