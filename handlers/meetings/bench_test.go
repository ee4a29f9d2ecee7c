package meetings

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkFold measures the minutes of a long meeting (2,000 lines, one
// command in four), which every meeting command folds again, against a
// baseline that only reads each line's command.
func BenchmarkFold(b *testing.B) {
	script := []string{"ana*: !startmeeting long"}
	for i := range 2000 {
		switch i % 4 {
		case 0:
			script = append(script, fmt.Sprintf("bo: !info note %d", i))
		case 1:
			script = append(script, fmt.Sprintf("cy: !action @bo:example.org task %d", i))
		default:
			script = append(script, fmt.Sprintf("cy: an ordinary line of talk, number %d", i))
		}
	}
	m, lines := scripted(script...)
	b.Run("baseline-read-commands", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for _, l := range lines {
				if _, _, ok := command(l.Body, "!"); ok {
					n++
				}
			}
		}
	})
	b.Run("fold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Fold(m, lines, "!")
		}
	})
}

// BenchmarkExpand measures a year of the test calendar's meetings against
// a baseline that only parses the feed.
func BenchmarkExpand(b *testing.B) {
	body, err := os.ReadFile("testdata/weekly.ics")
	if err != nil {
		b.Fatal(err)
	}
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	b.Run("baseline-parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := ParseCalendar(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse-and-expand-a-year", func(b *testing.B) {
		for b.Loop() {
			cal, _ := ParseCalendar(body)
			Expand(cal, from, from.AddDate(1, 0, 0))
		}
	})
}
