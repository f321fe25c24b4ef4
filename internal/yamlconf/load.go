package yamlconf

import (
	"fmt"
	"io"
	"os"
)

// Parse decodes r's YAML over defaults (Decode) and validates the result
// with its Validate method.
func Parse[T any, P interface {
	*T
	Validate() error
}](r io.Reader, defaults T) (T, error) {
	cfg := defaults
	if err := Decode(r, &cfg); err != nil {
		return *new(T), err
	}
	if err := P(&cfg).Validate(); err != nil {
		return *new(T), err
	}
	return cfg, nil
}

// Load is Parse of the file at path; its errors name the file.
func Load[T any, P interface {
	*T
	Validate() error
}](path string, defaults T) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		return *new(T), fmt.Errorf("open config %s: %w", path, err)
	}
	defer f.Close()
	cfg, err := Parse[T, P](f, defaults)
	if err != nil {
		return *new(T), fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}
