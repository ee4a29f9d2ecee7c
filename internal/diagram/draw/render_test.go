package draw

import (
	"bytes"
	"image/png"
	"os"
	"testing"

	"github.com/osbuild/ibbot/internal/diagram"
	"github.com/osbuild/ibbot/internal/fixtures"
)

func TestRenderNewest(t *testing.T) {
	out, err := Render(parse(t, fixtures.Read(fixtures.DiagramNewest)), 2)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out.Data))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 1520 || out.Width != 1520 {
		t.Errorf("width %d, want 1520 (760 at 2x)", img.Bounds().Dx())
	}
	if p := os.Getenv("IBBOT_DIAGRAM_PNG"); p != "" {
		os.WriteFile(p, out.Data, 0o644)
	}
}

// TestLabelsAreDrawn looks inside the composer box: oksvg alone leaves it
// white, so dark pixels there are the drawn label.
func TestLabelsAreDrawn(t *testing.T) {
	out, err := Render(parse(t, fixtures.Read(fixtures.DiagramNewest)), 2)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out.Data))
	if err != nil {
		t.Fatalf("the rendered diagram is not a PNG: %v", err)
	}
	dark := 0
	for y := 2 * 64; y < 2*105; y++ { // inside the box (390.5,60)-(534.5,109), border excluded
		for x := 2 * 395; x < 2*530; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r < 0x4000 && g < 0x4000 && b < 0x4000 {
				dark++
			}
		}
	}
	if dark < 500 {
		t.Errorf("%d dark pixels inside the composer box: its label was not drawn", dark)
	}
}

func TestRenderRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "<svg", "not xml at all"} {
		if d, err := diagram.Parse([]byte(in)); err == nil {
			if _, err := Render(d, 2); err == nil {
				t.Errorf("Render(%q) succeeded", in)
			}
		}
	}
}
