// Package draw draws the architecture diagram: to a PNG that Matrix
// clients show inline, and, to find room for marks, to an image of where
// it has ink. oksvg draws the shapes but skips <text>, so the labels are
// drawn here with Go's own fonts, standing in for Red Hat Text.
package draw

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"
	"strings"

	"github.com/srwiley/oksvg"
	"github.com/srwiley/rasterx"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/osbuild/ibbot/internal/diagram"
)

// PNG is a rendered diagram.
type PNG struct {
	Data          []byte
	Width, Height int
}

// Render draws d at scale (2 gives a sharp image on most screens).
func Render(d *diagram.Diagram, scale float64) (PNG, error) {
	img, _, err := raster(d, scale)
	if err != nil {
		return PNG{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return PNG{}, err
	}
	return PNG{Data: buf.Bytes(), Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}, nil
}

// raster draws d, shapes and text, on white at scale; pixel (0, 0) is
// the view box's corner, which it returns too.
func raster(d *diagram.Diagram, scale float64) (*image.RGBA, [2]float64, error) {
	icon, err := oksvg.ReadIconStream(bytes.NewReader(d.Bytes()), oksvg.IgnoreErrorMode)
	if err != nil {
		return nil, [2]float64{}, fmt.Errorf("reading the diagram: %w", err)
	}
	origin := [2]float64{icon.ViewBox.X, icon.ViewBox.Y}
	w, h := int(icon.ViewBox.W*scale), int(icon.ViewBox.H*scale)
	if w <= 0 || h <= 0 || w > 8000 || h > 8000 {
		return nil, origin, fmt.Errorf("diagram size %dx%d is out of range", w, h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	icon.SetTarget(0, 0, float64(w), float64(h))
	icon.Draw(rasterx.NewDasher(w, h, rasterx.NewScannerGV(w, h, img, img.Bounds())), 1)

	styles := parseCSS(d.StyleSheet())
	fonts, err := loadFonts()
	if err != nil {
		return nil, origin, err
	}
	for _, l := range d.Labels() {
		drawText(img, spanOf(l), styles, fonts, scale, icon.ViewBox.X, icon.ViewBox.Y)
	}
	return img, origin, nil
}

// span is one run of text at a position in SVG user units.
type span struct {
	x, y    float64
	text    string
	classes []string
	own     style // from the text element's own attributes (the marks')
	mono    bool
}

// style is what the diagram's CSS says about text.
type style struct {
	size   float64
	fill   color.Color
	weight int
}

type fonts struct{ regular, medium, bold, mono *opentype.Font }

func loadFonts() (fonts, error) {
	var f fonts
	var err error
	for _, p := range []struct {
		dst **opentype.Font
		ttf []byte
	}{{&f.regular, goregular.TTF}, {&f.medium, gomedium.TTF}, {&f.bold, gobold.TTF}, {&f.mono, gomono.TTF}} {
		if *p.dst, err = opentype.Parse(p.ttf); err != nil {
			return f, err
		}
	}
	return f, nil
}

// spanOf is what drawing needs of a label.
func spanOf(l diagram.Label) span {
	s := span{x: l.X, y: l.Y, text: l.Text, classes: l.Classes, mono: strings.Contains(l.FontFamily, "monospace")}
	s.own.size = l.FontSize
	s.own.fill, _ = hexColor(l.Fill)
	return s
}

// parseCSS reads the simple class rules Inkscape writes:
// ".cls-8, .cls-10 { fill: #151515; font-size: 12px; }".
func parseCSS(css string) map[string]style {
	out := map[string]style{}
	for _, rule := range strings.Split(css, "}") {
		sel, body, ok := strings.Cut(rule, "{")
		if !ok {
			continue
		}
		for _, cls := range strings.Split(sel, ",") {
			cls = strings.TrimPrefix(strings.TrimSpace(cls), ".")
			st := out[cls]
			for _, decl := range strings.Split(body, ";") {
				k, v, ok := strings.Cut(decl, ":")
				if !ok {
					continue
				}
				k, v = strings.TrimSpace(k), strings.TrimSpace(v)
				switch k {
				case "font-size":
					st.size = num(strings.TrimSuffix(v, "px"))
				case "fill":
					if c, ok := hexColor(v); ok {
						st.fill = c
					}
				case "font-weight":
					st.weight, _ = strconv.Atoi(v)
				}
			}
			out[cls] = st
		}
	}
	return out
}

func drawText(img *image.RGBA, s span, styles map[string]style, f fonts, scale, vx, vy float64) {
	st := style{size: 12, fill: color.Black, weight: 400}
	for _, c := range s.classes {
		cs := styles[c]
		if cs.size > 0 {
			st.size = cs.size
		}
		if cs.fill != nil {
			st.fill = cs.fill
		}
		if cs.weight > 0 {
			st.weight = cs.weight
		}
	}
	if s.own.size > 0 {
		st.size = s.own.size
	}
	if s.own.fill != nil {
		st.fill = s.own.fill
	}
	ttf := f.regular
	switch {
	case s.mono:
		ttf = f.mono
	case st.weight >= 700:
		ttf = f.bold
	case st.weight >= 500:
		ttf = f.medium
	}
	face, err := opentype.NewFace(ttf, &opentype.FaceOptions{Size: st.size * scale, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return
	}
	defer face.Close()
	d := font.Drawer{Dst: img, Src: image.NewUniform(st.fill), Face: face,
		Dot: fixed.P(int((s.x-vx)*scale), int((s.y-vy)*scale))}
	d.DrawString(strings.TrimSpace(s.text))
}

func num(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f
}

func hexColor(v string) (color.Color, bool) {
	v = strings.TrimPrefix(v, "#")
	if len(v) == 3 {
		v = string([]byte{v[0], v[0], v[1], v[1], v[2], v[2]})
	}
	if len(v) != 6 {
		return nil, false
	}
	n, err := strconv.ParseUint(v, 16, 32)
	if err != nil {
		return nil, false
	}
	return color.RGBA{uint8(n >> 16), uint8(n >> 8), uint8(n), 255}, true
}
