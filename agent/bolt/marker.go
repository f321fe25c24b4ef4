package bolt

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// markerPath is the file beside the state db that records that the agent
// has kept state there: path + ".id".
func markerPath(path string) string { return path + ".id" }

// writeMarker creates the marker if it is missing.
func writeMarker(path string) error {
	mp := markerPath(path)
	if _, err := os.Stat(mp); err == nil {
		return nil
	}
	body := "passline agent state db " + path + "\ncreated " + time.Now().UTC().Format(time.RFC3339) + "\n"
	if err := os.WriteFile(mp, []byte(body), 0o600); err != nil {
		return fmt.Errorf("write state db marker %s: %w", mp, err)
	}
	return nil
}

// checkFile looks at the file before bbolt does: missing or empty is
// fine for a new box and ErrMissing after the agent has run on it; a
// non-empty file must have a sound header (checkHeader).
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return checkNew(path, "missing")
	}
	if err != nil {
		return fmt.Errorf("open state db %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat state db %s: %w", path, err)
	}
	if st.Size() == 0 {
		return checkNew(path, "empty (0 bytes)")
	}
	if err := checkHeader(f, st.Size()); err != nil {
		return damaged(path, fmt.Errorf("%w: %v", ErrDamaged, err))
	}
	return nil
}

// checkNew allows a missing or empty file only when no marker says the
// agent has kept state there.
func checkNew(path, what string) error {
	b, err := os.ReadFile(markerPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	since := ""
	if i := strings.Index(string(b), "created "); i >= 0 {
		since = " since " + strings.TrimSpace(string(b[i+len("created "):]))
	}
	return fmt.Errorf("state db %s is %s, but %s shows the agent has kept state there%s: %w; "+
		"restore the file from a backup, or delete %s to start over with empty state (dedupe ids, history and the model are lost)",
		path, what, markerPath(path), since, ErrMissing, markerPath(path))
}

// damaged names the file and the recovery step.
func damaged(path string, err error) error {
	return fmt.Errorf("state db %s: %w; stop the agent and run `passline-agent state salvage` "+
		"(with the agent's -config): it copies every readable order, outbox entry and the model into a fresh file "+
		"and keeps the damaged one aside", path, err)
}
