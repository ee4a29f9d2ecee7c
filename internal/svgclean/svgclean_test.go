package svgclean

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"github.com/osbuild/ibbot/internal/diagram"
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
	out, err := cleanBytes([]byte(hostile))
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
	out, err := cleanBytes(fixtures.Read(fixtures.DiagramNewest))
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
		out, err := cleanBytes(in)
		if err != nil {
			return
		}
		if problem := unsafeMarkup(out); problem != "" {
			t.Fatalf("cleaned output has %s: %q", problem, out)
		}
		again, err := cleanBytes(out)
		if err != nil {
			t.Fatalf("cleaned output does not clean again: %v", err)
		}
		if string(again) != string(out) {
			t.Fatalf("cleaning is not stable:\n%q\n%q", out, again)
		}
	})
}

// unsafeMarkup reads cleaned output as XML and names the first element or
// attribute that could run or load something. It is the fuzzer's oracle,
// stricter than the cleaner and written apart from it: no scheme, no
// protocol-relative address, no url() but to a fragment, no @-rule that
// loads, anywhere in a value or style sheet, after CSS escapes and
// comments are read away.
func unsafeMarkup(out []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(out))
	dec.Strict = false
	inStyle := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !allowed[t.Name.Local] && t.Name.Local != "style" {
				return "element " + t.Name.Local
			}
			inStyle = t.Name.Local == "style"
			for _, a := range t.Attr {
				name := strings.ToLower(a.Name.Local)
				switch {
				case !drawing[name] || a.Name.Space != "":
					return "attribute " + a.Name.Space + ":" + name
				case name == "href" && !strings.HasPrefix(strings.TrimSpace(a.Value), "#"):
					return "link " + a.Value
				case reachesOut(a.Value):
					return "value " + a.Value
				}
			}
		case xml.CharData:
			if inStyle && reachesOut(string(t)) {
				return "style sheet " + string(t)
			}
		case xml.EndElement:
			inStyle = false
		}
	}
}

var urlCall = regexp.MustCompile(`url\(\s*['"]?\s*([^#\s'"]|$)`)

func reachesOut(v string) bool {
	d := strings.ToLower(DecodeCSS(v))
	return strings.Contains(d, "//") || strings.Contains(d, "@import") || strings.Contains(d, "image-set") ||
		strings.Contains(d, "expression(") || strings.Contains(d, "javascript:") || urlCall.MatchString(d)
}

// TestExternalReferencesGo: each of these once loaded or could load
// something from outside; none survives, and the drawing around it does.
func TestExternalReferencesGo(t *testing.T) {
	vectors := []string{
		`<rect fill="url(https://evil.example/p)"/>`,
		`<rect filter="url(https://evil.example/f.svg#f)"/>`,
		`<rect mask="url(//evil.example/m.svg#m)"/>`,
		`<rect clip-path="url('https://evil.example/c.svg#c')"/>`,
		`<rect cursor="url(https://evil.example/c.cur), auto"/>`,
		`<rect style="fill:url(#ok); stroke:url(https://evil.example/s)"/>`,
		`<rect style="fill:\75 rl(https://evil.example/e)"/>`,
		`<rect style="fill:u\72l(https://evil.example/e)"/>`,
		`<rect style="fill:URL( https://evil.example/e )"/>`,
		`<rect style="fill:url(/*x*/https://evil.example/e)"/>`,
		`<rect style="background:image-set(&quot;https://evil.example/i.png&quot; 1x)"/>`,
		`<rect style="background:-webkit-image-set(url(https://evil.example/i.png) 1x)"/>`,
		`<rect style="behavior:url(x.htc)"/>`,
		`<rect style="width:expression(alert(1))"/>`,
		`<rect marker-end="url(https://evil.example/m#m)"/>`,
		`<style>@im\70 ort "https://evil.example/x.css";</style>`,
		`<style>@import/**/"https://evil.example/x.css";</style>`,
		`<style>.a{fill:url(#ok)} .b{fill:url(https://evil.example/b)}</style>`,
		`<style>.a{fill:\000075rl(https://evil.example/b)}</style>`,
		`<style>@font-face{font-family:x;src:url(https://evil.example/f.woff)}</style>`,
		`<style>.a{background:url("data:image/svg+xml,&lt;svg onload=alert(1)&gt;")}</style>`,
		`<a href="https://evil.example/"><rect/></a>`,
		`<a xlink:href="javascript:alert(1)"><rect/></a>`,
		`<use href=" https://evil.example/s.svg#x"/>`,
		`<use xlink:href="//evil.example/s.svg#x"/>`,
		`<rect onmouseover="alert(1)"/>`,
		`<rect inkscape:label="x" sodipodi:role="y" data-x="z"/>`,
		`<feImage href="https://evil.example/i.png"/>`,
		`<animate attributeName="href" to="https://evil.example/"/>`,
	}
	for _, v := range vectors {
		in := `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><g class="keep">` + v + `<text>label</text></g></svg>`
		out, err := cleanBytes([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", v, err)
			continue
		}
		if problem := unsafeMarkup(out); problem != "" || strings.Contains(string(out), "evil") {
			t.Errorf("%s\n  kept %s: %s", v, problem, out)
		}
		if !strings.Contains(string(out), `<g class="keep">`) || !strings.Contains(string(out), "<text>label</text>") {
			t.Errorf("%s: the drawing around it was lost: %s", v, out)
		}
	}
}

func TestFragmentReferencesStay(t *testing.T) {
	in := `<svg><defs><linearGradient id="g"><stop offset="0" stop-color="#06c"/></linearGradient></defs>` +
		`<rect fill="url(#g)" style="stroke:url( '#g' )" clip-path="url(#c)"/><use xlink:href="#g"/></svg>`
	out, err := cleanBytes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`fill="url(#g)"`, `style="stroke:url( &#39;#g&#39; )"`, `clip-path="url(#c)"`, `<use href="#g">`, `stop-color="#06c"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lost %s: %s", want, out)
		}
	}
}

func TestDecodeCSS(t *testing.T) {
	for in, want := range map[string]string{
		`\75 rl(`:        "url(",
		`\000075rl(`:     "url(",
		`@im\70 ort`:     "@import",
		`u\rl`:           "url",
		`a/* c */b`:      "ab",
		`\110000`:        "\uFFFD",
		`x/* unfinished`: "x",
	} {
		if got := DecodeCSS(in); got != want {
			t.Errorf("DecodeCSS(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEditorIDsDropped: ids nothing points at (Inkscape numbers every
// element) are left out, so an inline diagram brings no stray ids into
// the page; referenced ones, links' and the root's stay.
func TestEditorIDsDropped(t *testing.T) {
	in := `<svg id="artwork"><defs id="defs4"><linearGradient id="grad"/></defs><g id="g12"><rect id="rect10" fill="url(#grad)"/>` +
		`<a id="a403"><text id="text8"><tspan id="tspan6">composer</tspan></text></a></g></svg>`
	out, err := cleanBytes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"defs4", "g12", "rect10", "text8", "tspan6"} {
		if strings.Contains(string(out), `"`+gone+`"`) {
			t.Errorf("id %s stayed: %s", gone, out)
		}
	}
	for _, kept := range []string{`id="artwork"`, `id="grad"`, `id="a403"`, `fill="url(#grad)"`} {
		if !strings.Contains(string(out), kept) {
			t.Errorf("%s was lost: %s", kept, out)
		}
	}
}

// cleanBytes parses and cleans an SVG file, as the status page does.
func cleanBytes(svg []byte) ([]byte, error) {
	d, err := diagram.Parse(svg)
	if err != nil {
		return nil, err
	}
	clean, err := Clean(d)
	if err != nil {
		return nil, err
	}
	return clean.Bytes(), nil
}
