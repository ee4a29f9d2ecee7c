package diagram

import (
	"bytes"
	"encoding/xml"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/osbuild/ibbot/internal/fixtures"
)

// TestEveryVersionReads: each published version of the diagram parses,
// names its components' boxes and their geometry, and writes back out to
// a file that reads the same.
func TestEveryVersionReads(t *testing.T) {
	files, _ := fs.Glob(fixtures.FS, "diagram/*.svg")
	if len(files) < 5 {
		t.Fatalf("%d diagram versions in the fixtures, want 5", len(files))
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			d, err := Parse(fixtures.Read(file))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(d.Anchors(), func(a Anchor) bool { return a.ID == "a403" && strings.Contains(a.Label, "composer") }) {
				t.Errorf("no composer box (a403) among %+v", d.Anchors())
			}
			if box, ok := d.BoxOf("a403"); !ok || box.W <= 0 || box.H <= 0 {
				t.Errorf("composer's box is %+v, %v", box, ok)
			}
			if len(d.Labels()) < 10 || !strings.Contains(d.StyleSheet(), ".cls-") {
				t.Errorf("%d labels and style sheet %.40q: the texts were not read", len(d.Labels()), d.StyleSheet())
			}
			assertRoundTrip(t, d)
		})
	}
}

// assertRoundTrip: a diagram written out and read again writes out the
// same bytes.
func assertRoundTrip(t *testing.T, d *Diagram) {
	t.Helper()
	var once, twice bytes.Buffer
	if err := d.Encode(&once); err != nil {
		t.Fatal(err)
	}
	again, err := Parse(once.Bytes())
	if err != nil {
		t.Fatalf("the diagram written out does not read again: %v", err)
	}
	if err := again.Encode(&twice); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(once.Bytes(), twice.Bytes()) {
		t.Fatalf("writing is not stable:\n%.300q\n%.300q", once.Bytes(), twice.Bytes())
	}
}

// TestComposerBox is the box the status page and !arch mark.
func TestComposerBox(t *testing.T) {
	d, err := Parse(fixtures.Read(fixtures.DiagramNewest))
	if err != nil {
		t.Fatal(err)
	}
	if box, _ := d.BoxOf("a403"); box != (Box{390.5, 60, 144, 49}) {
		t.Errorf("composer's box is %+v, want {390.5 60 144 49}", box)
	}
}

// TestNestedSpansKeepTheirStyle: the database names sit in a tspan inside
// a tspan whose class makes them medium weight; the label has that class.
func TestNestedSpansKeepTheirStyle(t *testing.T) {
	d, err := Parse(fixtures.Read(fixtures.DiagramNewest))
	if err != nil {
		t.Fatal(err)
	}
	var found []Label
	for _, l := range d.Labels() {
		if strings.TrimSpace(l.Text) == "composer-db" {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("composer-db is %d labels, want 1 (drawn once): %+v", len(found), found)
	}
	if !slices.Contains(found[0].Classes, "cls-9") {
		t.Errorf("composer-db has classes %v, want its tspan's cls-9 (medium weight)", found[0].Classes)
	}
}

func TestAnchorLabelsJoin(t *testing.T) {
	d, err := Parse([]byte(`<svg><a id="x" xlink:href="https://github.com/a/b" href="plain"><g onclick="o"><text>` +
		`<tspan>image-builder-</tspan><tspan>composer</tspan></text></g></a><a href="h"><text><tspan>worker</tspan><tspan>fleet</tspan></text></a></svg>`))
	if err != nil {
		t.Fatal(err)
	}
	got := d.Anchors()
	want := []Anchor{{ID: "x", Href: "https://github.com/a/b", Label: "image-builder-composer", Onclick: "o"}, {Href: "h", Label: "worker fleet"}}
	if !slices.Equal(got, want) {
		t.Errorf("anchors %+v, want %+v", got, want)
	}
}

func TestParseRejectsWhatIsNotADiagram(t *testing.T) {
	for name, in := range map[string]string{
		"empty":     "",
		"not xml":   "<<<>>>",
		"html":      "<html><a href='https://github.com/a/b'>x</a></html>",
		"two roots": "<svg></svg><svg></svg>",
		"unclosed":  `<svg><a><text>x`,
		"too deep":  "<svg>" + strings.Repeat("<g>", maxDepth) + strings.Repeat("</g>", maxDepth) + "</svg>",
		"too large": "<svg>" + strings.Repeat(" ", MaxBytes) + "</svg>",
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := fs.Glob(fixtures.FS, "diagram/*.svg")
	for _, file := range files {
		f.Add(fixtures.Read(file))
	}
	f.Add([]byte(`<?xml version="1.0"?><!-- c --><svg><a href="#x"><text x="1"><tspan y="2">a<tspan>b</tspan></tspan></text><rect width="1" height="2"/></a></svg>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		d.Anchors()
		d.Labels()
		d.StyleSheet()
		d.BoxOf("x")
		assertRoundTrip(t, d)
	})
}

// BenchmarkParse reads the current diagram into the model; its baseline,
// BenchmarkTokenWalk, is the bare encoding/xml walk each of the three
// readers it replaced made on its own.
func BenchmarkParse(b *testing.B) {
	data := fixtures.Read(fixtures.DiagramNewest)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenWalk(b *testing.B) {
	data := fixtures.Read(fixtures.DiagramNewest)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		dec := xml.NewDecoder(bytes.NewReader(data))
		dec.Strict = false
		for {
			if _, err := dec.Token(); err != nil {
				break
			}
		}
	}
}

// BenchmarkViews answers the three readers' questions from one model.
func BenchmarkViews(b *testing.B) {
	d, err := Parse(fixtures.Read(fixtures.DiagramNewest))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		d.Anchors()
		d.Labels()
		d.StyleSheet()
		d.BoxOf("a403")
	}
}
