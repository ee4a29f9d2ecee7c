package incidents

import (
	"testing"
)

const incidentsJSON = `{"page":{"id":"p","name":"Red Hat"},"incidents":[{"id":"inc1","name":"Image Builder builds fail","status":"identified",
"impact":"major","shortlink":"https://stspg.io/abc","created_at":"2026-12-05T09:00:00Z","updated_at":"2026-12-05T09:30:00Z","resolved_at":null,
"components":[{"id":"c1","name":"Image Builder","status":"partial_outage"}],
"incident_updates":[{"id":"u2","status":"identified","body":"The cause is known.","created_at":"2026-12-05T09:30:00Z"},
{"id":"u1","status":"investigating","body":"We are looking into it.","created_at":"2026-12-05T09:00:00Z"}]}]}`

func TestIncidentsAreRead(t *testing.T) {
	got, err := ParseIncidents([]byte(incidentsJSON))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Impact != "major" || len(got[0].Updates) != 2 || got[0].ResolvedAt != nil || !got[0].Touches([]string{"Image Builder"}) || got[0].Touches([]string{"Insights"}) {
		t.Errorf("incidents %+v", got)
	}
	for _, bad := range []string{"{", `{"incidents":[{"name":"no id"}]}`} {
		if _, err := ParseIncidents([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseIncidents(f *testing.F) {
	f.Add([]byte(incidentsJSON))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseIncidents(body)
		if err != nil {
			return
		}
		if len(got) > maxItems {
			t.Fatalf("%d incidents", len(got))
		}
		for _, in := range got {
			if in.ID == "" {
				t.Fatal("an incident without an id")
			}
		}
	})
}
