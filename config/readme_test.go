package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestREADMEDocumentsEveryKey: every key the config reads has a row in
// the README's configuration reference (a key added without one fails
// here). Keys inside maps (github.rooms.ROOM, prodhash.sources.ID) need
// the map documented; a row may name a sibling as `.exclude`.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(readme)
	for _, key := range keyPaths(reflect.TypeFor[Config](), "") {
		if strings.HasSuffix(key, ".") { // a map: its rows start so
			if !strings.Contains(doc, "`"+key) {
				t.Errorf("the README's configuration reference lacks `%s...`", key)
			}
			continue
		}
		last := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(doc, "`"+key+"`") && !strings.Contains(doc, "`"+key+" ") && !strings.Contains(doc, "`."+last+"`") {
			t.Errorf("the README's configuration reference lacks `%s`", key)
		}
	}
}

// keyPaths lists the YAML paths of t's leaves: list entries as [], a map
// by its own path with a dot after it.
func keyPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := strings.TrimPrefix(prefix+"."+name, ".")
		ft := f.Type
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[Secret]():
			out = append(out, keyPaths(ft, path)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, keyPaths(ft.Elem(), path+"[]")...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			out = append(out, path+".") // `github.rooms.ROOM...`: the map's rows
		default:
			out = append(out, path)
		}
	}
	return out
}
