// Package wire is the contract between Passline's three programs: the
// firmware-bridge, the agent and the cloud relay. It holds the versioned JSON
// message types, their validation, and the MQTT topic and NATS subject names.
// Nothing else is shared between the programs.
//
// Every message carries a version field "v". Decoders refuse a payload that
// is larger than MaxPayload, that is not JSON, whose version is not Version,
// or that fails Validate; the returned *Error says which field is wrong and
// classifies the failure with a Reason, so callers can count rejects by
// reason and keep them for inspection.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the current wire version. A message with any other "v" is
// refused with ReasonVersion.
const Version = 1

// MaxPayload is the largest message, in bytes, that any decoder accepts.
// Larger payloads are refused with ReasonOversize before they are parsed.
const MaxPayload = 64 << 10

// Reason classifies why a payload was refused.
type Reason string

// Reasons a payload is refused. They are stable strings, used as metric
// labels and as the reason kept with a reject.
const (
	ReasonOversize  Reason = "oversize"  // larger than MaxPayload
	ReasonMalformed Reason = "malformed" // not JSON, or wrong JSON types
	ReasonVersion   Reason = "version"   // unknown "v"
	ReasonInvalid   Reason = "invalid"   // a field is missing or absurd
	ReasonTopic     Reason = "topic"     // the topic or subject is not ours
)

// Error is a refused payload: which field, why, and the class of failure.
type Error struct {
	Reason Reason // class of failure
	Field  string // JSON path of the offending field, empty when not known
	Msg    string // what is wrong, for people
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Reason, e.Msg)
	}
	return fmt.Sprintf("%s: field %q: %s", e.Reason, e.Field, e.Msg)
}

// ReasonOf returns the Reason of err when it is (or wraps) an *Error, and
// ReasonMalformed otherwise.
func ReasonOf(err error) Reason {
	var we *Error
	if errors.As(err, &we) {
		return we.Reason
	}
	return ReasonMalformed
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Reason: ReasonInvalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// validator is implemented by every message type.
type validator interface{ Validate() error }

// decode is the shared decoder: size limit, JSON, version, then Validate.
// Unknown fields are ignored, so a newer sender's additions pass.
func decode(b []byte, v validator, version func() int) error {
	return decodeJSON(b, v, version, false)
}

// decodeStrict is decode refusing unknown fields, for what people write
// (a typo in a store config must not pass as "left out").
func decodeStrict(b []byte, v validator, version func() int) error {
	return decodeJSON(b, v, version, true)
}

func decodeJSON(b []byte, v validator, version func() int, strict bool) error {
	if len(b) > MaxPayload {
		return &Error{Reason: ReasonOversize, Msg: fmt.Sprintf("payload is %d bytes, limit %d", len(b), MaxPayload)}
	}
	if err := unmarshal(b, v, strict); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &Error{Reason: ReasonMalformed, Field: te.Field, Msg: "wrong type: " + te.Value + " where " + te.Type.String() + " is expected"}
		}
		return &Error{Reason: ReasonMalformed, Msg: err.Error()}
	}
	return checkDecoded(v, version())
}

// checkDecoded checks a decoded message: the version it names, then its
// fields.
func checkDecoded(v validator, got int) error {
	if got != Version {
		return &Error{Reason: ReasonVersion, Field: "v", Msg: fmt.Sprintf("version %d, this build speaks %d", got, Version)}
	}
	return v.Validate()
}

// unmarshal decodes one JSON value, refusing trailing data and, when
// strict, unknown fields. The lenient case is json.Unmarshal: a Decoder
// copies the input and costs the relay, which decodes every decision,
// about twice the allocations.
func unmarshal(b []byte, v any, strict bool) error {
	if !strict {
		return json.Unmarshal(b, v)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// encode marshals a validated message.
func encode(v validator) ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPayload {
		return nil, &Error{Reason: ReasonOversize, Msg: fmt.Sprintf("payload is %d bytes, limit %d", len(b), MaxPayload)}
	}
	return b, nil
}
