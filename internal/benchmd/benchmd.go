// Package benchmd keeps BENCHMARKS.md in sections: each benchmark suite
// (`make bench` in e2e/bench, `make bench-cloud` in cloud/bench) writes
// its own sections from its own run and keeps the others as they are, so
// no figure is ever edited by hand and one suite's run does not erase the
// other's.
package benchmd

import (
	"bytes"
	"fmt"
	"os"
)

// CloudRelay is the heading of the section `make bench-cloud` writes.
const CloudRelay = "## Cloud relay (BenchmarkCloudRelay, make bench-cloud)"

// Section returns the section of doc under heading, a "## " line: from
// that line up to the next "## " line or the end; nil when doc has none.
func Section(doc []byte, heading string) []byte {
	start := lineIndex(doc, heading)
	if start < 0 {
		return nil
	}
	end := len(doc)
	if i := bytes.Index(doc[start+len(heading):], []byte("\n## ")); i >= 0 {
		end = start + len(heading) + i + 1
	}
	return doc[start:end]
}

// Replace returns doc with its section under heading replaced by section
// (which starts with the heading line), or with section appended when doc
// has none.
func Replace(doc []byte, heading string, section []byte) []byte {
	old := Section(doc, heading)
	if old == nil {
		out := bytes.TrimRight(doc, "\n")
		if len(out) > 0 {
			out = append(out, "\n\n"...)
		}
		return append(out, section...)
	}
	start := lineIndex(doc, heading)
	out := append([]byte{}, doc[:start]...)
	out = append(out, section...)
	return append(out, doc[start+len(old):]...)
}

// WriteSection replaces the section under heading in the file at path
// (made when missing) with section.
func WriteSection(path, heading string, section []byte) error {
	doc, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.WriteFile(path, Replace(doc, heading, section), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// lineIndex is the offset of the line that is exactly heading, or -1.
func lineIndex(doc []byte, heading string) int {
	for off := 0; off < len(doc); {
		line := doc[off:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		if string(line) == heading {
			return off
		}
		off += len(line) + 1
	}
	return -1
}
