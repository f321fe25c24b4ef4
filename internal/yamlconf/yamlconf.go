// Package yamlconf reads the programs' YAML config files the same way in
// all three: strictly (an unknown field is an error naming its line) and
// with environment variables in values.
//
// Expansion happens in scalar values only, after YAML has parsed them, so
// comments are never expanded and a value that holds YAML syntax (a colon,
// a quote, a newline) cannot change the document's structure:
//
//	${VAR}          the variable's value; unset is an error naming VAR and the line
//	${VAR:-default} the variable's value, or default when VAR is unset or empty
//	$$              one literal $
//	$name, a lone $ left as they are
//
// So `password: "Xk9$mQ2$$z!"` reads as Xk9$mQ2$z!. A plain (unquoted)
// value is typed after expansion: `port: ${PORT}` fills an int.
//
// It is plumbing only: it knows no Passline config type.
package yamlconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decode reads a YAML document from r, expands variables from the
// environment in its values, and decodes it over v, a pointer to a
// struct already holding the defaults. An empty document leaves v as it
// is.
func Decode(r io.Reader, v any) error {
	return DecodeLookup(r, v, os.LookupEnv)
}

// DecodeLookup is Decode with lookup in place of the environment.
func DecodeLookup(r io.Reader, v any, lookup func(string) (string, bool)) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	if err := refuseUnknownFields(raw, v); err != nil {
		return err
	}
	if len(doc.Content) == 0 {
		return nil
	}
	if err := expandNode(&doc, lookup); err != nil {
		return err
	}
	if err := doc.Decode(v); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	return nil
}

// refuseUnknownFields decodes raw strictly into a scratch value of v's
// type and returns its unknown-field errors. Other errors are left to the
// real decode: before expansion `port: ${PORT}` is not an int yet.
func refuseUnknownFields(raw []byte, v any) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return fmt.Errorf("decode config: want a pointer, got %T", v)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	err := dec.Decode(reflect.New(t.Elem()).Interface())
	var te *yaml.TypeError
	if err == nil || errors.Is(err, io.EOF) || !errors.As(err, &te) {
		return nil
	}
	var unknown []string
	for _, msg := range te.Errors {
		if strings.Contains(msg, " not found in type ") {
			unknown = append(unknown, msg)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return fmt.Errorf("decode config: %s", strings.Join(unknown, "; "))
}
