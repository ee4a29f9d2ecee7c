package incidents

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxBody bounds one answer of the API: a page's recent incidents with
// their updates are some hundred kilobytes.
const maxBody = 4 << 20

// Feed reads a Statuspage page's public v2 API. Its client should make
// repeated requests conditional (internal/httpcache), so an unchanged
// page costs a 304.
type Feed struct {
	Base string // the page's address, e.g. https://status.redhat.com
	HTTP *http.Client
}

// Reading is one look at the page: its recent incidents and maintenances
// (each once) and its summary.
type Reading struct {
	Incidents []Incident
	Summary   Summary
}

// Read fetches the incidents, the scheduled maintenances and the summary.
func (f *Feed) Read(ctx context.Context) (Reading, error) {
	var r Reading
	seen := map[string]bool{}
	for _, path := range []string{"/api/v2/incidents.json", "/api/v2/scheduled-maintenances.json"} {
		body, err := f.get(ctx, path)
		if err != nil {
			return Reading{}, err
		}
		list, err := ParseIncidents(body)
		if err != nil {
			return Reading{}, fmt.Errorf("%s: %w", path, err)
		}
		for _, in := range list {
			if !seen[in.ID] {
				seen[in.ID] = true
				r.Incidents = append(r.Incidents, in)
			}
		}
	}
	body, err := f.get(ctx, "/api/v2/summary.json")
	if err != nil {
		return Reading{}, err
	}
	if r.Summary, err = ParseSummary(body); err != nil {
		return Reading{}, fmt.Errorf("/api/v2/summary.json: %w", err)
	}
	return r, nil
}

func (f *Feed) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(f.Base, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	client := f.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: the page answered %s", path, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("%s: the answer is larger than %d MiB", path, maxBody>>20)
	}
	return body, nil
}
