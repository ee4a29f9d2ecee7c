//go:build !goolm

package e2ee

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestBuildWithoutGoolmSaysWhy: a build without the tag still works; its
// encryption says plainly that it is missing and how to get it.
func TestBuildWithoutGoolmSaysWhy(t *testing.T) {
	_, err := New(context.Background(), Options{})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "-tags goolm") {
		t.Errorf("New in a build without goolm: %v", err)
	}
}
