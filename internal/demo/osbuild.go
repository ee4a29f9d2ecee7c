package demo

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/osbuild/ibbot/internal/testenv"
)

// demoRepo stands in for the recorded deliveries' Codertocat/Hello-World.
const demoRepo = "osbuild/image-builder-frontend"

// composerRepo is the repository of the component the demo deploys.
const composerRepo = "osbuild/osbuild-composer"

// imageBuilderDelivery is a real recorded delivery moved to demoRepo, with
// the item's title and author, and the sender, set to the world's people;
// edit changes anything else.
func imageBuilderDelivery(file string, number int, title, author string, edit func(map[string]any)) []byte {
	body := testenv.FreshDelivery(file, func(o map[string]any) {
		o["number"], o["title"] = number, title
		kind := "issues"
		if _, pr := o["head"]; pr {
			kind = "pull"
		}
		o["html_url"] = fmt.Sprintf("https://github.com/%s/%s/%d", demoRepo, kind, number)
		o["user"].(map[string]any)["login"] = author
		o["labels"] = []map[string]any{}
		if edit != nil {
			edit(o)
		}
	})
	return []byte(strings.ReplaceAll(string(body), "Codertocat/Hello-World", demoRepo))
}

// sentBy makes login the delivery's sender and osbuild its repository's
// owner (the recordings have GitHub's sample user Codertocat in both).
func sentBy(body []byte, login string) []byte {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		panic(err) // the fixtures are ours
	}
	m["sender"].(map[string]any)["login"] = login
	if repo, ok := m["repository"].(map[string]any); ok {
		repo["owner"].(map[string]any)["login"] = "osbuild"
	}
	out, _ := json.Marshal(m)
	return out
}
