package draw

import (
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"image"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/osbuild/ibbot/internal/diagram"
)

// Mark is what a component's box in the diagram is annotated with.
type Mark struct {
	Label, Href, Title string
}

// A mark is 11 px monospace text, whose characters are 0.6 em wide, so its
// size is known without a font: the browser and Render draw the same box.
const (
	markSize    = 11.0
	markAdvance = 0.6 * markSize
	markAscent  = 0.8 * markSize
	markDescent = 0.25 * markSize
	markColor   = "#0b4f9c"
)

// Annotator places marks on diagrams. It keeps the last diagram's ink (a
// drawing of it at one pixel per unit) so a page served again and again
// does not draw it each time.
type Annotator struct {
	mu     sync.Mutex
	sum    [32]byte
	ink    *image.RGBA
	origin [2]float64
}

// Placed is where a mark went: its text's box in the diagram's units, and
// whether it needed a backing label because no clear place was found.
type Placed struct {
	Box     Rect
	Backing bool
}

// Rect is x0, y0, x1, y1 in the diagram's units.
type Rect [4]float64

func (r Rect) overlaps(o Rect) bool { return r[0] < o[2] && o[0] < r[2] && r[1] < o[3] && o[1] < r[3] }

// Annotate adds to each marked box of a diagram (the box is the first rect
// inside the element whose id is the mark's key, the component's anchor)
// a line of text linking to the production commit: "0e2daa2 · 2 behind".
// Each mark goes where the diagram has nothing drawn (no line, arrow,
// outline or text crosses it) near its box: below, above, inside at the
// bottom, or beside it, in that order; when there is no such place it
// sits below on a white backing label. It returns where each went.
func (a *Annotator) Annotate(d *diagram.Diagram, marks map[string]Mark) (*diagram.Diagram, map[string]Placed, error) {
	boxes := markedBoxes(d, marks)
	ink, origin, err := a.inkOf(d)
	if err != nil {
		return nil, nil, err
	}
	placed := map[string]Placed{}
	var taken []Rect
	for _, id := range sortedIDs(boxes) {
		p := place(ink, origin, boxes[id], labelWidth(marks[id].Label), taken)
		placed[id] = p
		taken = append(taken, p.Box)
	}
	out, err := d.WithAfter(func(e *diagram.Element) []diagram.Node {
		id := e.Get("id")
		if _, ok := boxes[id]; !ok {
			return nil
		}
		return []diagram.Node{markOf(marks[id], placed[id])}
	})
	return out, placed, err
}

// inkOf draws d at one pixel per unit, or returns the last drawing.
func (a *Annotator) inkOf(d *diagram.Diagram) (*image.RGBA, [2]float64, error) {
	sum := sha256.Sum256(d.Bytes())
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ink != nil && a.sum == sum {
		return a.ink, a.origin, nil
	}
	img, origin, err := raster(d, 1)
	if err != nil {
		return nil, origin, err
	}
	a.sum, a.ink, a.origin = sum, img, origin
	return img, origin, nil
}

func labelWidth(label string) float64 { return float64(utf8.RuneCountInString(label)) * markAdvance }

// place tries the places around box in order and takes the first whose
// area the diagram leaves blank and no earlier mark has taken.
func place(ink *image.RGBA, origin [2]float64, box [4]float64, width float64, taken []Rect) Placed {
	bx, by, bw, bh := box[0], box[1], box[2], box[3]
	centred, left, right := bx+bw/2-width/2, bx, bx+bw-width
	type spot struct{ x, baseline float64 }
	var spots []spot
	for _, base := range []float64{by + bh + 12, by + bh + 24} { // below; further below, past stacked outlines
		spots = append(spots, spot{centred, base}, spot{left, base}, spot{right, base})
	}
	spots = append(spots, spot{centred, by + bh - 5})                                     // inside, at the bottom
	spots = append(spots, spot{centred, by - 5}, spot{left, by - 5}, spot{right, by - 5}) // above
	spots = append(spots, spot{bx + bw + 5, by + bh/2 + 4}, spot{bx - 5 - width, by + bh/2 + 4})
	best, bestInk := Placed{Box: textBox(centred, by+bh+12, width), Backing: true}, -1
	for _, s := range spots {
		r := textBox(s.x, s.baseline, width)
		if slices.ContainsFunc(taken, r.overlaps) {
			continue
		}
		if blank(ink, origin, r) {
			return Placed{Box: r}
		}
		// No blank place yet: remember the one that hides the least of
		// the diagram under its backing label.
		if n := inked(ink, origin, r); n >= 0 && (bestInk < 0 || n < bestInk) {
			best, bestInk = Placed{Box: r, Backing: true}, n
		}
	}
	return best
}

// textBox is the area a mark's text covers, with a pixel of margin.
func textBox(x, baseline, width float64) Rect {
	return Rect{x - 1, baseline - markAscent - 1, x + width + 1, baseline + markDescent + 1}
}

// blank reports whether the drawing is one colour all over r (nothing
// crosses it) and r lies inside the drawing.
func blank(ink *image.RGBA, origin [2]float64, r Rect) bool {
	x0, y0 := int(r[0]-origin[0]), int(r[1]-origin[1])
	x1, y1 := int(r[2]-origin[0]+0.999), int(r[3]-origin[1]+0.999)
	if x0 < 0 || y0 < 0 || x1 > ink.Bounds().Dx() || y1 > ink.Bounds().Dy() {
		return false
	}
	first := ink.RGBAAt(x0, y0)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			c := ink.RGBAAt(x, y)
			if diff(c.R, first.R) > 24 || diff(c.G, first.G) > 24 || diff(c.B, first.B) > 24 {
				return false
			}
		}
	}
	return true
}

// inked counts the dark pixels (lines, arrows, text) in r, or -1 when r
// is not inside the drawing.
func inked(ink *image.RGBA, origin [2]float64, r Rect) int {
	x0, y0 := int(r[0]-origin[0]), int(r[1]-origin[1])
	x1, y1 := int(r[2]-origin[0]+0.999), int(r[3]-origin[1]+0.999)
	if x0 < 0 || y0 < 0 || x1 > ink.Bounds().Dx() || y1 > ink.Bounds().Dy() {
		return -1
	}
	n := 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if c := ink.RGBAAt(x, y); c.R < 180 || c.G < 180 || c.B < 180 {
				n++
			}
		}
	}
	return n
}

func diff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

// markedBoxes finds the box of each marked anchor that has one, as x,
// y, width, height.
func markedBoxes(d *diagram.Diagram, marks map[string]Mark) map[string][4]float64 {
	boxes := map[string][4]float64{}
	for id := range marks {
		if b, ok := d.BoxOf(id); ok {
			boxes[id] = [4]float64{b.X, b.Y, b.W, b.H}
		}
	}
	return boxes
}

func sortedIDs(m map[string][4]float64) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// markOf is a mark's link: its title, its backing label if it needs one,
// and its text.
func markOf(m Mark, p Placed) *diagram.Element {
	el := func(name string, children []diagram.Node, attrs ...string) *diagram.Element {
		e := &diagram.Element{Name: xml.Name{Local: name}, Children: children}
		for i := 0; i+1 < len(attrs); i += 2 {
			e.Attr = append(e.Attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
		}
		return e
	}
	f := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	inside := []diagram.Node{el("title", []diagram.Node{diagram.Text(m.Title)})}
	if p.Backing {
		inside = append(inside, el("rect", nil, "class", "ibbot-mark-back", "x", f(p.Box[0]-2), "y", f(p.Box[1]),
			"width", f(p.Box[2]-p.Box[0]+4), "height", f(p.Box[3]-p.Box[1]), "rx", "2", "fill", "#ffffff",
			"stroke", markColor, "stroke-width", "0.5"))
	}
	inside = append(inside, el("text", []diagram.Node{diagram.Text(m.Label)}, "x", f(p.Box[0]+1), "y", f(p.Box[3]-1-markDescent),
		"class", "ibbot-mark", "font-family", "monospace", "font-size", f(markSize), "fill", markColor))
	return el("a", inside, "href", m.Href)
}
