package benchmd_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/passline/passline/internal/benchmd"
)

func TestReplace(t *testing.T) {
	const h = benchmd.CloudRelay
	sec := h + "\n\nnew figures\n\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"empty", "", sec},
		{"appended", "# B\n\n## Whole pipeline\n\nx\n", "# B\n\n## Whole pipeline\n\nx\n\n" + sec},
		{"last", "# B\n\n" + h + "\n\nold\n", "# B\n\n" + sec},
		{"middle", "# B\n\n" + h + "\n\nold\n\n## Other\n\ny\n", "# B\n\n" + sec + "## Other\n\ny\n"},
		{"heading text inside a line is not the heading", "# B\n\nsee " + h + "\n", "# B\n\nsee " + h + "\n\n" + sec},
	} {
		if got := string(benchmd.Replace([]byte(tc.doc), h, []byte(sec))); got != tc.want {
			t.Errorf("%s: got\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

func TestSectionAndWriteSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	sec := benchmd.CloudRelay + "\n\nfigures\n"
	if err := benchmd.WriteSection(path, benchmd.CloudRelay, []byte(sec)); err != nil {
		t.Fatal(err)
	}
	doc, _ := os.ReadFile(path)
	if got := string(benchmd.Section(doc, benchmd.CloudRelay)); got != sec {
		t.Fatalf("section %q, want %q", got, sec)
	}
	if benchmd.Section([]byte("# B\n"), benchmd.CloudRelay) != nil {
		t.Fatal("section found in a document without it")
	}
}
