package draw

import (
	"image"
	"os"
	"strings"
	"testing"

	"github.com/osbuild/ibbot/internal/diagram"
	"github.com/osbuild/ibbot/internal/fixtures"
)

var diagramVersions = []string{
	"diagram/architecture.guides-2023-01-26-c22fbd5.svg",
	"diagram/architecture.guides-2023-02-21-fcb216a.svg",
	"diagram/architecture.guides-2023-06-16-755b98b.svg",
	"diagram/architecture.guides-2024-01-26-43a0500.svg",
	fixtures.DiagramNewest,
}

// TestMarksCrossNothing checks each placed mark against the diagram's
// geometry as drawn: rendering the annotated diagram changes only pixels
// the plain diagram left blank, so no mark crosses a line, an arrow, an
// outline or a label. Where no blank place exists, the mark sits on a
// backing label that covers what is under its text.
func TestMarksCrossNothing(t *testing.T) {
	marks := map[string]Mark{
		"a294": {Label: "654458c · 13 behind", Href: "https://github.com/osbuild/image-builder-frontend/commit/654458c", Title: "frontend"},
		"a303": {Label: "85487bf · 1 behind", Href: "https://github.com/osbuild/image-builder-crc/commit/85487bf", Title: "crc"},
		"a403": {Label: "0e2daa2 · up to date", Href: "https://github.com/osbuild/osbuild-composer/commit/0e2daa2", Title: "composer"},
		"a510": {Label: "fd6801e · 120 behind", Href: "https://github.com/osbuild/osbuild/commit/fd6801e", Title: "worker"},
	}
	for _, file := range diagramVersions {
		t.Run(file, func(t *testing.T) {
			svg := parse(t, fixtures.Read(file))
			var a Annotator
			out, placed, err := a.Annotate(svg, marks)
			if err != nil {
				t.Fatal(err)
			}
			if len(placed) != len(marks) {
				t.Fatalf("%d marks placed, want %d", len(placed), len(marks))
			}
			plain, _, err := raster(svg, 2)
			if err != nil {
				t.Fatal(err)
			}
			marked, _, err := raster(out, 2)
			if err != nil {
				t.Fatal(err)
			}
			if p := os.Getenv("IBBOT_ARTIFACTS"); p != "" {
				r, _ := Render(out, 2)
				os.WriteFile(p+"/marks-"+strings.TrimSuffix(strings.TrimPrefix(file, "diagram/"), ".svg")+".png", r.Data, 0o644)
			}
			backings := 0
			for id, p := range placed {
				if p.Backing {
					backings++
					continue
				}
				if n := inkUnder(plain, marked, p.Box, 2); n > 0 {
					t.Errorf("mark %s at %v draws over %d pixels of the diagram", id, p.Box, n)
				}
			}
			if changed := changedOutside(plain, marked, placed, 2); changed > 0 {
				t.Errorf("%d pixels changed outside the marks' boxes: a mark is wider or lower than placed", changed)
			}
			// The current diagram has blank room near every box but
			// composer's, whose arrow to its database runs through all
			// the room below it and whose region ends close beside it.
			if file == fixtures.DiagramNewest && backings > 1 {
				t.Errorf("%d marks needed a backing label on the current diagram, want at most 1", backings)
			}
		})
	}
}

// inkUnder counts the pixels inside r that the mark changed although the
// plain drawing had something there (not white).
func inkUnder(plain, marked *image.RGBA, r Rect, scale float64) int {
	n := 0
	forPixels(r, scale, plain.Bounds(), func(x, y int) {
		p, m := plain.RGBAAt(x, y), marked.RGBAAt(x, y)
		if p != m && (p.R < 230 || p.G < 230 || p.B < 230) {
			n++
		}
	})
	return n
}

// changedOutside counts pixels the annotation changed outside every box.
func changedOutside(plain, marked *image.RGBA, placed map[string]Placed, scale float64) int {
	inside := map[image.Point]bool{}
	for _, p := range placed {
		box := p.Box
		if p.Backing {
			box = Rect{box[0] - 3, box[1] - 1, box[2] + 3, box[3] + 1}
		}
		forPixels(box, scale, plain.Bounds(), func(x, y int) { inside[image.Point{x, y}] = true })
	}
	n := 0
	for y := 0; y < plain.Bounds().Dy(); y++ {
		for x := 0; x < plain.Bounds().Dx(); x++ {
			if plain.RGBAAt(x, y) != marked.RGBAAt(x, y) && !inside[image.Point{x, y}] {
				n++
			}
		}
	}
	return n
}

func forPixels(r Rect, scale float64, b image.Rectangle, f func(x, y int)) {
	for y := int(r[1] * scale); y < int(r[3]*scale+0.999); y++ {
		for x := int(r[0] * scale); x < int(r[2]*scale+0.999); x++ {
			if (image.Point{x, y}).In(b) {
				f(x, y)
			}
		}
	}
}

func parse(t testing.TB, data []byte) *diagram.Diagram {
	t.Helper()
	d, err := diagram.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
