// Package diagram is the one reader of the architecture diagram: it parses
// the SVG once into a tree of elements, and answers from that tree what
// each user needs: the links on the boxes (the production commits), the
// texts with their positions and styles (to draw them), the boxes'
// geometry (to place marks beside them). A Diagram never changes; the
// cleaner and the annotator build new ones from its elements.
package diagram

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
)

// MaxBytes bounds what Parse reads; the real file is about 11 kB.
const MaxBytes = 4 << 20

// maxDepth bounds nesting, so a hostile file cannot exhaust the stack of
// whoever walks the tree.
const maxDepth = 256

// Diagram is a parsed SVG: its top-level nodes (the root element, and any
// prolog or comments around it) and its bytes.
type Diagram struct {
	top  []Node
	root *Element
	data []byte
}

// Node is an element (*Element), character data (Text) or anything else
// the file holds (Misc: comments, processing instructions, DOCTYPE).
type Node interface{ node() }

// Element is one SVG element with its attributes as written and its
// children in order. Names are as written: Space is the prefix
// ("xlink" in xlink:href), not a namespace URL, so the diagram writes
// back out as it was read.
type Element struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []Node
}

// Text is character data.
type Text string

// Misc is a comment, processing instruction or directive, kept so a
// diagram written back out is the one read.
type Misc struct{ Token xml.Token }

func (*Element) node() {}
func (Text) node()     {}
func (Misc) node()     {}

// Parse reads an SVG into a Diagram. It reports an error, never a panic,
// for anything that is not a single well-nested element tree rooted at
// <svg>. It is lenient the way browsers are about what XML forbids but
// SVG editors write (unknown entities, unquoted attributes).
func Parse(data []byte) (*Diagram, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("diagram is %d bytes, more than the %d read", len(data), MaxBytes)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	d := &Diagram{data: data}
	var open []*Element
	for {
		// Raw tokens keep names as written (encoding/xml cannot write
		// back the namespaces it resolves); nesting is checked here.
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("diagram is not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(open) == 0 && d.root != nil {
				return nil, errors.New("diagram has more than one root element")
			}
			if len(open) == maxDepth {
				return nil, errors.New("diagram's elements are nested too deep")
			}
			el := &Element{Name: t.Name, Attr: t.Copy().Attr}
			if len(open) == 0 {
				if t.Name.Local != "svg" {
					return nil, fmt.Errorf("diagram's root element is <%s>, not <svg>", t.Name.Local)
				}
				d.root = el
				d.top = append(d.top, el)
			} else {
				parent := open[len(open)-1]
				parent.Children = append(parent.Children, el)
			}
			open = append(open, el)
		case xml.EndElement:
			if len(open) == 0 || open[len(open)-1].Name != t.Name {
				return nil, fmt.Errorf("diagram closes </%s>, which is not the element open", t.Name.Local)
			}
			open = open[:len(open)-1]
		case xml.CharData:
			d.add(open, Text(t))
		default:
			d.add(open, Misc{xml.CopyToken(tok)})
		}
	}
	if d.root == nil {
		return nil, errors.New("diagram is empty")
	}
	if len(open) > 0 {
		return nil, errors.New("diagram's elements are not closed")
	}
	return d, nil
}

func (d *Diagram) add(open []*Element, n Node) {
	if len(open) == 0 {
		d.top = append(d.top, n)
		return
	}
	parent := open[len(open)-1]
	parent.Children = append(parent.Children, n)
}

// New makes a Diagram of a root element built by its caller (the
// cleaner), which must not change it afterwards.
func New(root *Element) (*Diagram, error) { return build([]Node{root}, root) }

// build makes a Diagram of top-level nodes, root among them, and encodes
// it once.
func build(top []Node, root *Element) (*Diagram, error) {
	d := &Diagram{top: top, root: root}
	var out bytes.Buffer
	if err := d.Encode(&out); err != nil {
		return nil, err
	}
	d.data = out.Bytes()
	return d, nil
}

// Root is the <svg> element.
func (d *Diagram) Root() *Element { return d.root }

// Bytes is the diagram as a file: the bytes parsed, or for a built
// diagram its encoding.
func (d *Diagram) Bytes() []byte { return d.data }

// Encode writes the diagram as XML.
func (d *Diagram) Encode(w io.Writer) error {
	var b strings.Builder
	for _, n := range d.top {
		write(&b, n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// write writes a node as XML, names with their prefixes as read, text and
// values escaped as encoding/xml escapes them.
func write(b *strings.Builder, n Node) {
	switch n := n.(type) {
	case *Element:
		b.WriteString("<" + qualified(n.Name))
		for _, a := range n.Attr {
			b.WriteString(" " + qualified(a.Name) + `="` + escape(a.Value) + `"`)
		}
		b.WriteString(">")
		for _, c := range n.Children {
			write(b, c)
		}
		b.WriteString("</" + qualified(n.Name) + ">")
	case Text:
		b.WriteString(strings.ReplaceAll(escape(string(n)), "&#xA;", "\n"))
	case Misc:
		switch t := n.Token.(type) {
		case xml.Comment:
			b.WriteString("<!--" + string(t) + "-->")
		case xml.ProcInst:
			b.WriteString("<?" + t.Target)
			if len(t.Inst) > 0 {
				b.WriteString(" " + string(t.Inst))
			}
			b.WriteString("?>")
		case xml.Directive:
			b.WriteString("<!" + string(t) + ">")
		}
	}
}

func qualified(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Elements is every element of the diagram in document order.
func (d *Diagram) Elements() iter.Seq[*Element] { return d.root.Descendants(true) }

// Descendants is every element inside e in document order, e first when
// self is true.
func (e *Element) Descendants(self bool) iter.Seq[*Element] {
	return func(yield func(*Element) bool) {
		if self && !yield(e) {
			return
		}
		e.descend(yield)
	}
}

func (e *Element) descend(yield func(*Element) bool) bool {
	for _, c := range e.Children {
		if c, ok := c.(*Element); ok {
			if !yield(c) || !c.descend(yield) {
				return false
			}
		}
	}
	return true
}

// Get is the value of the attribute with this local name, whatever its
// namespace, or "".
func (e *Element) Get(local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// Href is the element's link: xlink:href, or plain href (SVG 2).
func (e *Element) Href() string {
	var plain string
	for _, a := range e.Attr {
		if a.Name.Local == "href" {
			if a.Name.Space != "" {
				return a.Value
			}
			plain = a.Value
		}
	}
	return plain
}

// Content is all the character data inside e, as written.
func (e *Element) Content() string {
	var b strings.Builder
	e.content(&b)
	return b.String()
}

func (e *Element) content(b *strings.Builder) {
	for _, c := range e.Children {
		switch c := c.(type) {
		case Text:
			b.WriteString(string(c))
		case *Element:
			c.content(b)
		}
	}
}
