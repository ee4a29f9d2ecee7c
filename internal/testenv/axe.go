package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// axe-core, the accessibility rules engine the page test runs in the
// browser, pinned by version and by the npm registry's integrity hash.
const (
	AxeVersion   = "4.14.1"
	axeTarball   = "https://registry.npmjs.org/axe-core/-/axe-core-" + AxeVersion + ".tgz"
	axeIntegrity = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)

// AxeCorePath is where FetchAxeCore keeps axe.min.js: the user's cache
// directory, or IBBOT_AXE_CORE when set.
func AxeCorePath() string {
	if p := os.Getenv("IBBOT_AXE_CORE"); p != "" {
		return p
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "ibbot", "axe-core-"+AxeVersion, "axe.min.js")
}

// FetchAxeCore downloads axe-core's package from the npm registry once,
// checks it against the pinned integrity hash, and keeps axe.min.js at
// AxeCorePath. Tests never download: CI (and a developer, once) runs
// `go run ./internal/testenv/cmd/fetch-axe` first.
func FetchAxeCore(ctx context.Context) (string, error) {
	dst := AxeCorePath()
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, axeTarball, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("downloading axe-core: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("downloading axe-core: %s", resp.Status)
	}
	tgz, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return "", fmt.Errorf("downloading axe-core: %w", err)
	}
	sum := sha512.Sum512(tgz)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != axeIntegrity {
		return "", fmt.Errorf("axe-core %s does not match its pinned integrity hash (got %s)", AxeVersion, got)
	}
	js, err := fileInTarball(tgz, "package/axe.min.js")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, js, 0o644); err != nil {
		return "", err
	}
	return dst, os.Rename(tmp, dst)
}

func fileInTarball(tgz []byte, name string) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is not in the axe-core package", name)
		}
		if err != nil {
			return nil, err
		}
		if h.Name == name {
			return io.ReadAll(io.LimitReader(tr, 16<<20))
		}
	}
}
