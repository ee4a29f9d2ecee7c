package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/osbuild/ibbot/internal/suggest"
)

// Example is the documented example configuration; a test loads it, so it
// cannot rot.
//
//go:embed example.yaml
var Example []byte

// LookupEnv reads an environment variable; os.LookupEnv in production.
type LookupEnv func(key string) (string, bool)

// secretEnv lists the secrets that may come from the environment, either as
// the value itself (NAME) or as a file holding it (NAME_FILE, for container
// secrets).
var secretEnv = []struct {
	name string
	key  string
	get  func(*Config) *Secret
}{
	{"IBBOT_MATRIX_PASSWORD", "matrix.password", func(c *Config) *Secret { return &c.Matrix.Password }},
	{"IBBOT_MATRIX_ACCESS_TOKEN", "matrix.access_token", func(c *Config) *Secret { return &c.Matrix.AccessToken }},
	{"IBBOT_GITHUB_TOKEN", "github.token", func(c *Config) *Secret { return &c.GitHub.Token }},
	{"IBBOT_IMAP_PASSWORD", "mail.imap.password", func(c *Config) *Secret { return &c.Mail.IMAP.Password }},
	{"IBBOT_GITHUB_WEBHOOK_SECRET", "github.webhook.secret", func(c *Config) *Secret { return &c.GitHub.Webhook.Secret }},
}

// Load reads the YAML file at path over Defaults, applies secrets from env,
// and validates the result. The returned error lists every problem found.
func Load(path string, env LookupEnv) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, env)
}

// Parse is Load for configuration already in memory.
func Parse(data []byte, env LookupEnv) (*Config, error) {
	cfg := Defaults()
	var errs []error
	if err := decodeStrict(data, &cfg); err != nil {
		errs = append(errs, err)
	}
	if err := applySecretEnv(&cfg, env); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func applySecretEnv(cfg *Config, env LookupEnv) error {
	if env == nil {
		return nil
	}
	var errs []error
	for _, s := range secretEnv {
		if v, ok := env(s.name); ok && v != "" {
			*s.get(cfg) = NewSecret(v)
			continue
		}
		file, ok := env(s.name + "_FILE")
		if !ok || file == "" {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, &KeyError{Key: s.key, Msg: fmt.Sprintf("reading %s_FILE: %v", s.name, err)})
			continue
		}
		*s.get(cfg) = NewSecret(strings.TrimSpace(string(b)))
	}
	return errors.Join(errs...)
}

// decodeStrict decodes YAML into out key by key, so that an unknown key or
// a value of the wrong type is reported with its full path and line, and
// every such problem is reported, not just the first.
func decodeStrict(data []byte, out any) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file means all defaults
		}
		return fmt.Errorf("not valid YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	var errs []error
	decodeNode(doc.Content[0], reflect.ValueOf(out).Elem(), "", &errs)
	return errors.Join(errs...)
}

func decodeNode(n *yaml.Node, v reflect.Value, path string, errs *[]error) {
	if v.Kind() == reflect.Map && v.Type().Elem().Kind() == reflect.Struct && n.Kind == yaml.MappingNode {
		decodeStructMap(n, v, path, errs)
		return
	}
	if v.Kind() != reflect.Struct || isLeafStruct(v) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			*errs = append(*errs, &KeyError{Key: orRoot(path), Line: n.Line, Msg: typeErrorText(err)})
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		*errs = append(*errs, &KeyError{Key: orRoot(path), Line: n.Line, Msg: "must be a mapping of keys"})
		return
	}
	fields := yamlFields(v)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		sub := joinPath(path, key.Value)
		f, ok := fields[key.Value]
		if !ok {
			*errs = append(*errs, &KeyError{Key: sub, Line: key.Line, Msg: unknownKeyText(key.Value, fields)})
			continue
		}
		decodeNode(val, f, sub, errs)
	}
}

// decodeStructMap decodes a map of structs entry by entry, so unknown keys
// inside each entry are caught too.
func decodeStructMap(n *yaml.Node, v reflect.Value, path string, errs *[]error) {
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		elem := reflect.New(v.Type().Elem()).Elem()
		decodeNode(n.Content[i+1], elem, joinPath(path, n.Content[i].Value), errs)
		v.SetMapIndex(reflect.ValueOf(n.Content[i].Value), elem)
	}
}

// isLeafStruct is true for structs decoded as one scalar (Secret).
func isLeafStruct(v reflect.Value) bool {
	_, ok := v.Addr().Interface().(interface{ UnmarshalText([]byte) error })
	return ok
}

func yamlFields(v reflect.Value) map[string]reflect.Value {
	fields := make(map[string]reflect.Value)
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = v.Field(i)
		}
	}
	return fields
}

func unknownKeyText(key string, fields map[string]reflect.Value) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	slices.Sort(known)
	if best := suggest.Closest(key, known); best != "" {
		return fmt.Sprintf("unknown key; did you mean %q?", best)
	}
	return "unknown key"
}

// typeErrorText drops yaml.v3's "line N:" prefix; KeyError carries the line.
func typeErrorText(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
			msg = msg[i+2:]
		}
		return msg
	}
	return err.Error()
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}
