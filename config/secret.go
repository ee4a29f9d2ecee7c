package config

// Secret is a configuration value that must never be printed: its String,
// MarshalJSON and MarshalYAML all redact it, so it is safe inside a logged
// struct.
type Secret struct{ value string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Value returns the secret itself, for the one place that needs it.
func (s Secret) Value() string { return s.value }

func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return "[redacted]"
}

// MarshalJSON redacts the secret (zerolog and encoding/json use it).
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalYAML redacts the secret.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// UnmarshalText reads the secret from the configuration file.
func (s *Secret) UnmarshalText(b []byte) error {
	s.value = string(b)
	return nil
}
