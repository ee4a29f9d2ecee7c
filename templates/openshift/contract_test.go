// Package openshift_test checks the OpenShift templates against the code
// they deploy: a template that sets a variable ibbot never reads, probes a
// path it does not serve, or mounts a config `ibbot check-config` rejects
// fails here rather than in the cluster.
package openshift_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/app"
	"github.com/osbuild/ibbot/internal/ops"
	"github.com/osbuild/ibbot/internal/store"
)

// variants are the templates and what sets them apart.
var variants = []struct {
	file     string
	postgres bool
}{
	{"ibbot.yml", true},
	{"ibbot-sqlite.yml", false},
}

// samples fill the parameters an operator must give (no default).
var samples = map[string]string{
	"IMAGE_TAG":      "v1.0.0",
	"MATRIX_USER_ID": "@ibbot:fedora.im",
}

type parameter struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Value       string `yaml:"value"`
	Required    bool   `yaml:"required"`
}

type template struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   obj               `yaml:"metadata"`
	Objects    []obj             `yaml:"objects"`
	Parameters []parameter       `yaml:"parameters"`
	Labels     map[string]string `yaml:"labels"`
}

// obj is a decoded Kubernetes object, navigated with get.
type obj = map[string]any

// get walks keys (string for maps, int for lists) and returns what it
// finds, or nil.
func get(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(obj)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, keys ...any) string {
	s, _ := get(v, keys...).(string)
	return s
}

func list(v any, keys ...any) []any {
	l, _ := get(v, keys...).([]any)
	return l
}

var reference = regexp.MustCompile(`\$\{\{?([A-Za-z0-9_]+)\}?\}`)

// process does what `oc process` does with the parameters' defaults
// (and samples for those without): ${X} and ${{X}} become the value.
func process(t *testing.T, raw string, params []parameter) template {
	t.Helper()
	values := map[string]string{}
	for _, p := range params {
		values[p.Name] = p.Value
		if v, ok := samples[p.Name]; ok && p.Value == "" {
			values[p.Name] = v
		}
	}
	out := reference.ReplaceAllStringFunc(raw, func(ref string) string {
		return values[reference.FindStringSubmatch(ref)[1]]
	})
	var tmpl template
	if err := yaml.Unmarshal([]byte(out), &tmpl); err != nil {
		t.Fatalf("the processed template does not parse: %v", err)
	}
	return tmpl
}

func TestTemplates(t *testing.T) {
	for _, v := range variants {
		t.Run(v.file, func(t *testing.T) {
			raw, err := os.ReadFile(v.file)
			if err != nil {
				t.Fatal(err)
			}
			var tmpl template
			if err := yaml.Unmarshal(raw, &tmpl); err != nil {
				t.Fatalf("does not parse: %v", err)
			}
			if tmpl.APIVersion != "template.openshift.io/v1" || tmpl.Kind != "Template" {
				t.Errorf("%s %s, want a template.openshift.io/v1 Template", tmpl.APIVersion, tmpl.Kind)
			}
			if str(tmpl.Metadata, "annotations", "description") == "" || str(tmpl.Metadata, "annotations", "openshift.io/display-name") == "" {
				t.Error("metadata.annotations lack a display name or description")
			}
			checkParameters(t, string(raw), tmpl.Parameters)
			processed := process(t, string(raw), tmpl.Parameters)
			checkObjects(t, processed, v.postgres)
		})
	}
}

// checkParameters: each is documented, defined once, used; every
// reference is to a defined one.
func checkParameters(t *testing.T, raw string, params []parameter) {
	t.Helper()
	objects := raw[:strings.Index(raw, "\nparameters:")]
	used := map[string]bool{}
	for _, m := range reference.FindAllStringSubmatch(objects, -1) {
		used[m[1]] = true
	}
	defined := map[string]bool{}
	for _, p := range params {
		if defined[p.Name] {
			t.Errorf("parameter %s is defined twice", p.Name)
		}
		defined[p.Name] = true
		if p.Description == "" {
			t.Errorf("parameter %s has no description", p.Name)
		}
		if !used[p.Name] {
			t.Errorf("parameter %s is defined but never used", p.Name)
		}
		if p.Required && p.Value == "" && samples[p.Name] == "" {
			t.Errorf("required parameter %s has no default and no sample in this test", p.Name)
		}
	}
	for name := range used {
		if !defined[name] {
			t.Errorf("${%s} is used but not defined", name)
		}
	}
}

// objectsOf returns the template's objects of kind, by name.
func objectsOf(tmpl template, kind string) map[string]obj {
	out := map[string]obj{}
	for _, o := range tmpl.Objects {
		if o["kind"] == kind {
			out[str(o, "metadata", "name")] = o
		}
	}
	return out
}

func only(t *testing.T, tmpl template, kind string) obj {
	t.Helper()
	all := objectsOf(tmpl, kind)
	if len(all) != 1 {
		t.Fatalf("%d %s objects, want 1", len(all), kind)
	}
	for _, o := range all {
		return o
	}
	return nil
}

func checkObjects(t *testing.T, tmpl template, postgres bool) {
	deploy := only(t, tmpl, "Deployment")
	pod := get(deploy, "spec", "template", "spec")
	containers := list(pod, "containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	c := containers[0]

	cfg := mountedConfig(t, tmpl, pod, c)
	checkEnv(t, c)
	checkPorts(t, tmpl, c, cfg)
	checkSecurity(t, pod, c)
	for _, k := range []string{"requests", "limits"} {
		for _, r := range []string{"cpu", "memory"} {
			if str(c, "resources", k, r) == "" {
				t.Errorf("resources.%s.%s is not set", k, r)
			}
		}
	}
	strategy := str(deploy, "spec", "strategy", "type")
	replicas, _ := get(deploy, "spec", "replicas").(int)
	if postgres {
		checkDisruptionBudget(t, tmpl)
		if !store.IsPostgres(cfg.Database) || strategy != "RollingUpdate" || replicas < 2 {
			t.Errorf("database %q, strategy %s, %d replicas; want PostgreSQL, RollingUpdate, at least 2 by default", cfg.Database, strategy, replicas)
		}
		return
	}
	if store.IsPostgres(cfg.Database) || strategy != "Recreate" || replicas != 1 {
		t.Errorf("database %q, strategy %s, %d replicas; want a SQLite file, Recreate, 1", cfg.Database, strategy, replicas)
	}
	if !mountedAt(pod, c, filepath.Dir(cfg.Database), "persistentVolumeClaim") {
		t.Errorf("the SQLite file %s is not on a persistent volume", cfg.Database)
	}
	if len(objectsOf(tmpl, "PersistentVolumeClaim")) != 1 {
		t.Error("no PersistentVolumeClaim for the database")
	}
}

// mountedConfig finds the config file the container is started with, in
// the ConfigMap mounted there, and loads it as `ibbot check-config` does,
// with the Secrets' variables set.
func mountedConfig(t *testing.T, tmpl template, pod, c any) *config.Config {
	t.Helper()
	args := list(c, "args")
	i := slices.Index(args, any("-config"))
	if len(args) == 0 || args[0] != "run" || i < 0 || i+1 >= len(args) {
		t.Fatalf("container args %v, want run -config FILE", args)
	}
	file := args[i+1].(string)
	var cm obj
	for _, m := range list(c, "volumeMounts") {
		if str(m, "mountPath") == path.Dir(file) {
			for _, vol := range list(pod, "volumes") {
				if str(vol, "name") == str(m, "name") {
					cm = objectsOf(tmpl, "ConfigMap")[str(vol, "configMap", "name")]
				}
			}
		}
	}
	data := str(cm, "data", path.Base(file))
	if data == "" {
		t.Fatalf("no ConfigMap with %s is mounted at %s", path.Base(file), path.Dir(file))
	}
	local := filepath.Join(t.TempDir(), "ibbot.yaml")
	os.WriteFile(local, []byte(data), 0o600)
	env := map[string]string{}
	for _, e := range list(c, "env") {
		env[str(e, "name")] = str(e, "value")
		if key := str(e, "valueFrom", "secretKeyRef", "key"); key != "" {
			env[str(e, "name")] = "from-secret-" + key
		}
	}
	delete(env, "IBBOT_MATRIX_PASSWORD") // the Secret holds a token or a password
	cfg, err := config.Load(local, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil {
		err = app.Check(cfg)
	}
	if err != nil {
		t.Fatalf("the mounted config fails check-config:\n%v", err)
	}
	return cfg
}

// checkEnv: every variable is one ibbot reads, and secrets come from
// Secrets, never from the template's text.
func checkEnv(t *testing.T, c any) {
	t.Helper()
	known := config.EnvNames()
	for _, e := range list(c, "env") {
		name := str(e, "name")
		if !slices.Contains(known, name) {
			t.Errorf("env %s is not a variable ibbot reads", name)
		}
		secret := strings.HasPrefix(name, "IBBOT_") || name == "PGPASSWORD"
		if secret && str(e, "valueFrom", "secretKeyRef", "name") == "" {
			t.Errorf("env %s is a secret but not from a Secret (secretKeyRef)", name)
		}
	}
}

// checkPorts: the probes ask the ports and paths the binary serves; the
// webhook has its own port, Service and Route, apart from /metrics.
func checkPorts(t *testing.T, tmpl template, c any, cfg *config.Config) {
	t.Helper()
	ports := map[string]string{}
	for _, p := range list(c, "ports") {
		ports[str(p, "name")] = portString(get(p, "containerPort"))
	}
	_, opsPort, _ := net.SplitHostPort(cfg.HTTP.Listen)
	_, hookPort, _ := net.SplitHostPort(cfg.GitHub.Webhook.Listen)
	if ports["ops"] != opsPort || ports["webhook"] != hookPort || opsPort == hookPort {
		t.Errorf("container ports %v; the config listens on %s (ops) and %s (webhook), which must differ", ports, opsPort, hookPort)
	}
	served := ops.New(prometheus.NewRegistry(), func() (string, error) { return "leader", nil }, zerolog.Nop()).Mux
	for _, probe := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
		p := str(c, probe, "httpGet", "path")
		if port := str(c, probe, "httpGet", "port"); port != "ops" {
			t.Errorf("%s asks port %q, want the ops port", probe, port)
		}
		rec := httptest.NewRecorder()
		served.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if p == "" || rec.Code != http.StatusOK {
			t.Errorf("%s asks %q, which the binary answers %d", probe, p, rec.Code)
		}
		for _, k := range []string{"periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold"} {
			if get(c, probe, k) == nil {
				t.Errorf("%s.%s is not set", probe, k)
			}
		}
	}
	// Liveness must not depend on the database or Matrix (a restart
	// would not help); readiness says whether webhooks can be taken.
	if str(c, "livenessProbe", "httpGet", "path") != "/healthz" || str(c, "readinessProbe", "httpGet", "path") != "/readyz" ||
		str(c, "startupProbe", "httpGet", "path") != "/healthz" {
		t.Error("startup and liveness must ask /healthz and readiness /readyz")
	}
	services := objectsOf(tmpl, "Service")
	metrics := false
	for name, svc := range services {
		var targets []string
		for _, p := range list(svc, "spec", "ports") {
			targets = append(targets, str(p, "targetPort"))
		}
		if slices.Contains(targets, "webhook") && slices.Contains(targets, "ops") {
			t.Errorf("Service %s exposes the webhook and /metrics together", name)
		}
		metrics = metrics || slices.Equal(targets, []string{"ops"})
	}
	if !metrics {
		t.Error("no Service for /metrics (the ops port alone)")
	}
	checkRoute(t, tmpl, "webhook", cfg.GitHub.Webhook.Path)
	_, statusPort, _ := net.SplitHostPort(cfg.Status.Listen)
	if statusPort == "" || ports["status"] != statusPort {
		t.Errorf("container ports %v; the status page listens on %q", ports, cfg.Status.Listen)
	}
	checkRoute(t, tmpl, "status", "")
}

// checkRoute: a Route over TLS leads to a Service of the one named
// container port, serving path ("" for the whole host).
func checkRoute(t *testing.T, tmpl template, port, path string) {
	t.Helper()
	services := objectsOf(tmpl, "Service")
	for _, route := range objectsOf(tmpl, "Route") {
		svc := services[str(route, "spec", "to", "name")]
		if str(svc, "spec", "ports", 0, "targetPort") != port {
			continue
		}
		if len(list(svc, "spec", "ports")) != 1 || str(route, "spec", "port", "targetPort") != port {
			t.Errorf("the %s Route's Service %v exposes more than the %s port", port, get(svc, "metadata", "name"), port)
		}
		if str(route, "spec", "path") != path || str(route, "spec", "tls", "termination") == "" {
			t.Errorf("the %s Route serves %q (TLS %q); want %q over TLS", port,
				str(route, "spec", "path"), str(route, "spec", "tls", "termination"), path)
		}
		return
	}
	t.Errorf("no Route leads to the %s port", port)
}

func portString(v any) string {
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

func checkSecurity(t *testing.T, pod, c any) {
	t.Helper()
	if get(pod, "securityContext", "runAsNonRoot") != true {
		t.Error("the pod may run as root")
	}
	if get(c, "securityContext", "readOnlyRootFilesystem") != true || get(c, "securityContext", "allowPrivilegeEscalation") != false {
		t.Error("the container's root filesystem is writable or it may escalate privileges")
	}
	if !slices.Contains(list(c, "securityContext", "capabilities", "drop"), any("ALL")) {
		t.Error("the container keeps Linux capabilities")
	}
}

// mountedAt reports whether dir is the mount of a volume of kind.
func mountedAt(pod, c any, dir, kind string) bool {
	for _, m := range list(c, "volumeMounts") {
		if str(m, "mountPath") != dir {
			continue
		}
		for _, vol := range list(pod, "volumes") {
			if str(vol, "name") == str(m, "name") && get(vol, kind) != nil {
				return true
			}
		}
	}
	return false
}

// checkDisruptionBudget: a drain may always take one pod, whatever
// REPLICAS is (minAvailable: 1 with one replica would block it forever).
func checkDisruptionBudget(t *testing.T, tmpl template) {
	t.Helper()
	pdb := only(t, tmpl, "PodDisruptionBudget")
	if get(pdb, "spec", "minAvailable") != nil {
		t.Errorf("the PodDisruptionBudget sets minAvailable (%v): with REPLICAS=1 it blocks every drain", get(pdb, "spec", "minAvailable"))
	}
	if n, _ := get(pdb, "spec", "maxUnavailable").(int); n < 1 {
		t.Errorf("the PodDisruptionBudget's maxUnavailable is %v; a drain must be able to take one pod", get(pdb, "spec", "maxUnavailable"))
	}
}
