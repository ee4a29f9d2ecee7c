package catalog

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultFindsEveryAlias(t *testing.T) {
	c := Default()
	for name, want := range map[string]string{
		"composer": "composer", "osbuild-composer": "composer", "image-builder-composer": "composer",
		"crc": "crc", "backend": "crc", "image-builder-crc": "crc",
		"frontend": "frontend", "UI": "frontend",
		"worker": "worker", "workers": "worker", "osbuild": "worker", "worker-fleet": "worker",
		"image-builder-db": "image-builder-db", "composer-db": "composer-db",
	} {
		got, ok := c.Find(name)
		if !ok || got.ID != want {
			t.Errorf("Find(%q) = %v %v, want %s", name, got, ok, want)
		}
	}
	if _, ok := c.Find("kubernetes"); ok {
		t.Error("found a component that does not exist")
	}
	if s := c.Suggest("compser"); s != "composer" {
		t.Errorf("Suggest(compser) = %q", s)
	}
	if got := c.CanonicalRepo("osbuild/image-builder"); got != "osbuild/image-builder-crc" {
		t.Errorf("renamed repo maps to %q", got)
	}
	if n := len(c.Services()); n != 4 {
		t.Errorf("%d services with code, want 4", n)
	}
}

func TestLoadOverridesAndExtends(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte(`
components:
  - id: composer
    name: composer
    repo: me/composer-fork
  - id: koji
    name: koji-osbuild
    repo: osbuild/koji-osbuild
`), 0o600)
	c, err := Load(file, false)
	if err != nil {
		t.Fatal(err)
	}
	if comp, _ := c.Find("composer"); comp.Repo != "me/composer-fork" || comp.Branch != "main" {
		t.Errorf("override not applied: %+v", comp)
	}
	if _, ok := c.Find("koji-osbuild"); !ok {
		t.Error("extension not added")
	}
	if _, ok := c.Find("frontend"); !ok {
		t.Error("defaults lost without replace")
	}
	c, err = Load(file, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Find("frontend"); ok {
		t.Error("replace kept the defaults")
	}
}

func TestLoadRejectsBadCatalogue(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte("components:\n  - id: x\n    name: composer\n"), 0o600)
	if _, err := Load(file, false); err == nil {
		t.Error("a name clash with a default component was accepted")
	}
	os.WriteFile(file, []byte("components:\n  - id: x\n    nmae: y\n"), 0o600)
	if _, err := Load(file, false); err == nil {
		t.Error("an unknown key was accepted")
	}
}
