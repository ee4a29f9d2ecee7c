package memlimit

import (
	"math"
	"runtime/debug"
	"testing"
	"testing/fstest"
)

func TestContainerLimits(t *testing.T) {
	for name, c := range map[string]struct {
		files fstest.MapFS
		want  int64
		ok    bool
	}{
		"cgroup v2":           {fstest.MapFS{"memory.max": {Data: []byte("268435456\n")}}, 256 << 20, true},
		"cgroup v2 unlimited": {fstest.MapFS{"memory.max": {Data: []byte("max\n")}}, 0, false},
		"cgroup v1":           {fstest.MapFS{"memory/memory.limit_in_bytes": {Data: []byte("536870912\n")}}, 512 << 20, true},
		"cgroup v1 unlimited": {fstest.MapFS{"memory/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")}}, 0, false},
		"no cgroup":           {fstest.MapFS{}, 0, false},
		"garbage":             {fstest.MapFS{"memory.max": {Data: []byte("lots")}}, 0, false},
	} {
		if got, ok := Container(c.files); got != c.want || ok != c.ok {
			t.Errorf("%s: %d, %v; want %d, %v", name, got, ok, c.want, c.ok)
		}
	}
}

// TestApply: the runtime's limit becomes 90% of the container's, unless
// the operator chose one; the log line says which.
func TestApply(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	debug.SetMemoryLimit(math.MaxInt64)
	v2 := fstest.MapFS{"memory.max": {Data: []byte("268435456\n")}}

	said := Apply(v2, func(string) string { return "" })
	if got := debug.SetMemoryLimit(-1); got != 241591910 {
		t.Errorf("limit %d, want 90%% of 256 MiB", got)
	}
	if want := "Go's memory limit set to 230 MiB, 90% of the container's 256 MiB"; said != want {
		t.Errorf("said %q, want %q", said, want)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	said = Apply(v2, func(k string) string { return map[string]string{"GOMEMLIMIT": "100MiB"}[k] })
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT set, yet the limit became %d", got)
	}
	if said != "Go's memory limit is GOMEMLIMIT=100MiB" {
		t.Errorf("said %q", said)
	}
}
