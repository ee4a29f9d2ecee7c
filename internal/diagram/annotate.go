package diagram

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
)

// Mark is what a component's box in the diagram is annotated with.
type Mark struct {
	Label, Href, Title string
}

// Annotate adds, under each marked box of a diagram (the box is the first
// rect inside the element whose id is the mark's key, the component's
// anchor), a line of text linking to the production commit: "0e2daa2 ·
// 2 behind". centred puts it in the middle under the box (for browsers);
// otherwise it starts at the box's left edge (for Render, which draws
// text left-aligned).
func Annotate(svg []byte, marks map[string]Mark, centred bool) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(svg))
	dec.Strict = false
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	var open []string // the anchor ids of the marked elements we are in (or "")
	var box *[4]float64
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			id := attr(t, "id")
			if _, marked := marks[id]; marked {
				open, box = append(open, id), nil
			} else {
				open = append(open, "")
			}
			if t.Name.Local == "rect" && box == nil && anyMarked(open) {
				box = rectOf(t)
			}
		case xml.EndElement:
			if len(open) == 0 {
				continue
			}
			id := open[len(open)-1]
			open = open[:len(open)-1]
			if err := enc.EncodeToken(t); err != nil {
				return nil, err
			}
			if id != "" && box != nil {
				if err := writeMark(enc, marks[id], *box, centred); err != nil {
					return nil, err
				}
				box = nil
			}
			continue
		}
		if err := enc.EncodeToken(xml.CopyToken(tok)); err != nil {
			return nil, err
		}
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func anyMarked(open []string) bool {
	for _, id := range open {
		if id != "" {
			return true
		}
	}
	return false
}

func rectOf(t xml.StartElement) *[4]float64 {
	var r [4]float64
	for i, name := range []string{"x", "y", "width", "height"} {
		v, err := strconv.ParseFloat(attr(t, name), 64)
		if err != nil && name != "x" && name != "y" {
			return nil
		}
		r[i] = v
	}
	return &r
}

func writeMark(enc *xml.Encoder, m Mark, box [4]float64, centred bool) error {
	x, y, anchor := box[0]+2, box[1]+box[3]+12, "start"
	if centred {
		x, anchor = box[0]+box[2]/2, "middle"
	}
	a := xml.StartElement{Name: xml.Name{Local: "a"}, Attr: []xml.Attr{{Name: xml.Name{Local: "href"}, Value: m.Href}}}
	text := xml.StartElement{Name: xml.Name{Local: "text"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "x"}, Value: fmt.Sprintf("%.1f", x)},
		{Name: xml.Name{Local: "y"}, Value: fmt.Sprintf("%.1f", y)},
		{Name: xml.Name{Local: "class"}, Value: "ibbot-mark"},
		{Name: xml.Name{Local: "text-anchor"}, Value: anchor},
	}}
	title := xml.StartElement{Name: xml.Name{Local: "title"}}
	for _, tok := range []xml.Token{a, title, xml.CharData(m.Title), title.End(), text, xml.CharData(m.Label), text.End(), a.End()} {
		if err := enc.EncodeToken(tok); err != nil {
			return err
		}
	}
	return nil
}
