package mail

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

var (
	footerRule  = regexp.MustCompile(`^_{10,}\s*$`)
	attribution = regexp.MustCompile(`(?i)^(on .{3,200}(wrote|écrit|schrieb|escribió)\s*:?|.{3,120} (wrote|writes)\s*:|-{3,}\s*original message\s*-{3,})\s*$`)
)

// isFooter recognises the text a list appends (Mailman's "___ / list
// mailing list / listinfo" block), inline or as its own part.
func isFooter(s string) bool {
	l := strings.ToLower(s)
	return len(s) < 2000 && (strings.Contains(l, "mailing list") || strings.Contains(l, "listinfo") ||
		strings.Contains(l, "unsubscribe") || strings.Contains(l, "to unsubscribe send an email"))
}

// isFooterPart is a part that is nothing but a list footer (Mailman adds
// it as its own part to signed or multipart mail).
func isFooterPart(s string) bool {
	return isFooter(s) && cleanBody(s) == ""
}

// cleanBody removes what a reader does not need in a room: the list
// footer, the trailing quote of the mail replied to (with its "On … wrote:"
// line), and the signature. Quotes interleaved with the reply stay.
func cleanBody(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(s, "\n")
	lines = cutFooter(lines)
	lines = cutSignature(lines)
	lines = cutTrailingQuote(lines)
	return collapseBlank(lines)
}

// cutFooter drops a Mailman footer at the end: from a rule of underscores,
// or a bare "--" line (dm-devel's shape), when what follows names the list.
func cutFooter(lines []string) []string {
	for i := len(lines) - 1; i >= 0 && i >= len(lines)-15; i-- {
		t := strings.TrimRight(lines[i], " ")
		if (footerRule.MatchString(t) || t == "--") && isFooter(strings.Join(lines[i+1:], "\n")) {
			return lines[:i]
		}
	}
	return lines
}

// cutSignature drops everything after the last "-- " separator when it is
// near the end (a signature, not a patch's "--" diffstat line).
func cutSignature(lines []string) []string {
	for i := len(lines) - 1; i >= 0 && i >= len(lines)-12; i-- {
		if lines[i] == "-- " {
			return lines[:i]
		}
	}
	return lines
}

// cutTrailingQuote drops the quote block at the end and its attribution;
// a mail that is only a quote keeps it.
func cutTrailingQuote(lines []string) []string {
	end := len(lines)
	for end > 0 && strings.TrimSpace(lines[end-1]) == "" {
		end--
	}
	i := end
	for i > 0 && (strings.HasPrefix(strings.TrimSpace(lines[i-1]), ">") || strings.TrimSpace(lines[i-1]) == "") {
		i--
	}
	if i == end {
		// "-----Original Message-----" followed by an unquoted copy (Outlook).
		for j := end - 1; j >= 0; j-- {
			if attribution.MatchString(strings.TrimSpace(lines[j])) && strings.Contains(strings.ToLower(lines[j]), "original message") {
				if hasText(lines[:j]) {
					return lines[:j]
				}
			}
		}
		return lines
	}
	cut := i
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		if t := strings.TrimSpace(lines[j]); t == "" {
			continue
		} else if attribution.MatchString(t) || (j > 0 && attribution.MatchString(strings.TrimSpace(lines[j-1]+" "+t))) {
			cut = j
			if j > 0 && !attribution.MatchString(t) {
				cut = j - 1
			}
		}
		break
	}
	if !hasText(lines[:cut]) {
		return lines // nothing but a quote: keep it
	}
	return lines[:cut]
}

// ownWords is a mail's text without what it quotes, for the search: the
// thread's document holds the quoted mail already, and a quote indexed
// again would count its words twice and show in answers as the reply's.
// An attribution ("On … wrote:", also wrapped over two lines) goes with
// its quote.
func ownWords(body string) string {
	lines := strings.Split(body, "\n")
	quote := func(i int) bool { return i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), ">") }
	kept := make([]string, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		switch {
		case quote(i), attribution.MatchString(t):
			continue
		case i+1 < len(lines) && quote(i+2) && attribution.MatchString(t+" "+strings.TrimSpace(lines[i+1])):
			i++ // an attribution wrapped over two lines
			continue
		}
		kept = append(kept, lines[i])
	}
	return collapseBlank(kept)
}

func hasText(lines []string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			return true
		}
	}
	return false
}

func collapseBlank(lines []string) string {
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// htmlToText turns HTML mail into text, keeping paragraph and line breaks
// and dropping scripts and styles. Malformed HTML is read as far as it goes.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return collapseBlank(strings.Split(b.String(), "\n"))
		case html.TextToken:
			if skip == 0 {
				raw := string(z.Text())
				words := strings.Join(strings.Fields(raw), " ")
				if words == "" {
					if raw != "" {
						b.WriteByte(' ')
					}
					break
				}
				if strings.TrimLeft(raw, " \t\r\n") != raw {
					b.WriteByte(' ')
				}
				b.WriteString(words)
				if strings.TrimRight(raw, " \t\r\n") != raw {
					b.WriteByte(' ')
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				skip++
			case "br":
				b.WriteByte('\n')
			case "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote":
				b.WriteString("\n")
			case "td", "th":
				b.WriteString(" ")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if skip > 0 {
					skip--
				}
			case "p", "div", "h1", "h2", "h3", "h4", "table":
				b.WriteString("\n")
			}
		}
		if b.Len() > 200000 {
			return collapseBlank(strings.Split(b.String(), "\n"))
		}
	}
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// Excerpt is the start of what the author wrote, for an announcement:
// quoted lines and their "On … wrote:" are left out (the thread shows what
// was quoted), unless the mail is nothing else.
func (m *Mail) Excerpt(n int) string {
	if n <= 0 {
		return "" // excerpt_chars: 0 shows none
	}
	var own []string
	for _, line := range strings.Split(m.Body, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, ">") || attribution.MatchString(t) {
			continue
		}
		own = append(own, t)
	}
	text := strings.Join(strings.Fields(strings.Join(own, " ")), " ")
	if text == "" {
		text = strings.Join(strings.Fields(m.Body), " ")
	}
	return truncate(text, n)
}
