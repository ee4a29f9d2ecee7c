package testenv

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/osbuild/ibbot/internal/fixtures"
)

// SignWebhook signs a body as GitHub does: HMAC-SHA256 with the secret.
func SignWebhook(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// DeliverWebhook posts one delivery as GitHub does (one try, no retry)
// with the given signature header, and returns the status code.
func DeliverWebhook(ctx context.Context, c *http.Client, url, event, deliveryID, signature string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", deliveryID)
	req.Header.Set("X-Hub-Signature-256", signature)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// FreshDelivery is a real webhook fixture (internal/fixtures/github/webhooks)
// whose issue or pull request was created just now, with edit applied to
// that object.
func FreshDelivery(file string, edit func(obj map[string]any)) []byte {
	var m map[string]any
	if err := json.Unmarshal(fixtures.Read("github/webhooks/"+file), &m); err != nil {
		panic(err) // the fixtures are ours
	}
	obj, _ := m["issue"].(map[string]any)
	if obj == nil {
		obj, _ = m["pull_request"].(map[string]any)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	obj["created_at"], obj["updated_at"] = now, now
	if edit != nil {
		edit(obj)
	}
	b, _ := json.Marshal(m)
	return b
}

// InRepo moves a delivery to repo (owner/name): its repository and its
// item's address.
func InRepo(body []byte, repo string) []byte {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		panic(err)
	}
	owner, name, _ := strings.Cut(repo, "/")
	if r, ok := m["repository"].(map[string]any); ok {
		r["full_name"], r["name"], r["html_url"] = repo, name, "https://github.com/"+repo
		if o, ok := r["owner"].(map[string]any); ok {
			o["login"] = owner
		}
	}
	for _, k := range []string{"issue", "pull_request"} {
		if obj, ok := m[k].(map[string]any); ok {
			obj["html_url"] = fmt.Sprintf("https://github.com/%s/issues/%v", repo, obj["number"])
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// ItemOf returns the issue or pull request object of a delivery, as the
// issues API would list it.
func ItemOf(body []byte) json.RawMessage {
	var m map[string]json.RawMessage
	json.Unmarshal(body, &m)
	if m["issue"] != nil {
		return m["issue"]
	}
	return m["pull_request"]
}
