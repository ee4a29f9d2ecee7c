package docs

import (
	"regexp"
	"strconv"
	"strings"
)

// line is one line of a page read as text, or a heading.
type line struct {
	text  string
	level int // 1 to 6 for a heading, 0 for text
}

var (
	fence      = regexp.MustCompile("^\\s*(`{3,}|~{3,})")
	heading    = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	esm        = regexp.MustCompile(`^(import|export)\s`)
	admonition = regexp.MustCompile(`^\s*:::\s*([a-z]*)(?:\[(.*)\]|\s+(.*))?\s*$`)
	listMarker = regexp.MustCompile(`^\s*(?:[-*+]|\d+[.)])\s+`)
	image      = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	link       = regexp.MustCompile(`\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])`)
	tag        = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9.]*(?:\s[^<>]*)?/?>`)
	comments   = regexp.MustCompile(`(?s)<!--.*?-->|\{/\*.*?\*/\}`)
)

// clean reads MDX as the text a reader sees: import and export lines,
// comments, JSX components and HTML tags go (the text inside them stays),
// admonition fences go (their titles stay), inline markup is read away,
// and code blocks are kept as they are, since people search for commands.
func clean(body []byte) []line {
	text := comments.ReplaceAllString(strings.ReplaceAll(string(body), "\r\n", "\n"), "")
	var out []line
	var open string // the fence of the code block we are in
	for _, l := range strings.Split(text, "\n") {
		if m := fence.FindStringSubmatch(l); m != nil {
			switch {
			case open == "":
				open = m[1]
				continue
			case strings.HasPrefix(strings.TrimSpace(l), open) && strings.Trim(strings.TrimSpace(l), open[:1]) == "":
				open = ""
				continue
			}
		}
		if open != "" {
			out = append(out, line{text: l})
			continue
		}
		out = append(out, readLine(l)...)
	}
	return out
}

// readLine is one line outside code.
func readLine(l string) []line {
	if esm.MatchString(l) {
		return nil
	}
	if m := admonition.FindStringSubmatch(l); m != nil {
		if title := strings.TrimSpace(m[2] + m[3]); title != "" {
			return []line{{text: inlineText(title)}}
		}
		return nil
	}
	if m := heading.FindStringSubmatch(l); m != nil {
		return []line{{text: m[2], level: len(m[1])}}
	}
	l = listMarker.ReplaceAllString(l, "")
	l = strings.TrimLeft(strings.TrimSpace(l), "> ")
	if strings.Trim(l, "|-: ") == "" && strings.Contains(l, "|") {
		return nil // a table's rule
	}
	l = strings.Trim(strings.ReplaceAll(l, " | ", " · "), "| ")
	return []line{{text: inlineText(l)}}
}

// inlineText reads inline markup away: images become their alt text, links
// their text, tags and emphasis go.
func inlineText(s string) string {
	s = image.ReplaceAllString(s, "$1")
	s = link.ReplaceAllString(s, "$1")
	s = tag.ReplaceAllString(s, "")
	s = strings.NewReplacer("**", "", "__", "", "`", "").Replace(s)
	return strings.TrimSpace(s)
}

// firstTitle is the page's first # heading, outside code.
func firstTitle(body []byte) (string, bool) {
	for _, l := range clean(body) {
		if l.level == 1 {
			return inlineText(l.text), true
		}
	}
	return "", false
}

// sections cuts the page at its ## and ### headings. Anchors are made
// unique on the page as Docusaurus makes them: a repeated one gets -1, -2.
func sections(lines []line, address string) []Section {
	var out []Section
	cur := Section{Address: address}
	var body []string
	seen := map[string]int{}
	flush := func() {
		cur.Text = joinText(body)
		if cur.Heading != "" || cur.Text != "" {
			out = append(out, cur)
		}
		body = nil
	}
	for _, l := range lines {
		if l.level == 0 {
			body = append(body, l.text)
			continue
		}
		text, anchor := Anchor(l.text)
		if n := seen[anchor]; n > 0 {
			seen[anchor] = n + 1
			anchor += "-" + strconv.Itoa(n)
		} else {
			seen[anchor] = 1
		}
		switch {
		case l.level == 1:
			continue // the page's title
		case l.level > 3:
			body = append(body, text)
			continue
		}
		flush()
		cur = Section{Heading: text, Level: l.level, Address: address + "#" + anchor}
	}
	flush()
	return out
}

// joinText joins a section's lines, with one blank line at most between
// paragraphs.
func joinText(lines []string) string {
	var b strings.Builder
	blank := false
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			blank = b.Len() > 0
			continue
		}
		if blank {
			b.WriteString("\n\n")
		} else if b.Len() > 0 {
			b.WriteByte('\n')
		}
		blank = false
		b.WriteString(l)
	}
	return b.String()
}
