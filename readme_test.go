// Tests that README.md and the Makefile describe the tree as it is, so
// neither can rot unnoticed: the layout table against the directories, the
// state file name against the agent's code, the make targets against the
// Makefile and `make help`.
package passline_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	agentapp "github.com/passline/passline/agent/app"
)

// section returns the lines of README.md under the heading "## name", up
// to the next "## " heading.
func section(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "## ") {
			in = l == "## "+name
			continue
		}
		if in {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("README.md has no section %q", name)
	}
	return out
}

// firstCells returns the backquoted first cell of every table row in lines.
var firstCell = regexp.MustCompile("^\\| `([^`]+)` \\|")

func firstCells(lines []string) []string {
	var out []string
	for _, l := range lines {
		if m := firstCell.FindStringSubmatch(l); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// goPackageDirs returns the directories up to depth levels below the root
// that hold Go files, leaving out the root, hidden directories and testdata.
func goPackageDirs(t *testing.T, depth int) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return fs.SkipDir
			}
			if strings.Count(path, "/") >= depth {
				return fs.SkipDir
			}
			return nil
		}
		dir := filepath.Dir(path)
		if strings.HasSuffix(path, ".go") && dir != "." && !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// TestReadmeLayoutMatchesTree: every path in the README's layout table
// exists, and every Go package directory up to two levels deep (agent/bolt,
// cloud/quota, internal/service, ...) is in the table. Deeper packages
// (commands, test helpers) may be listed but need not be.
func TestReadmeLayoutMatchesTree(t *testing.T) {
	listed := map[string]bool{}
	for _, p := range firstCells(section(t, "Layout")) {
		p = strings.TrimSuffix(p, "/")
		listed[p] = true
		if _, err := os.Stat(p); err != nil {
			t.Errorf("README layout lists %s, which does not exist", p)
		}
	}
	if len(listed) == 0 {
		t.Fatal("README layout table has no rows")
	}
	for _, dir := range goPackageDirs(t, 2) {
		if !listed[dir] {
			t.Errorf("Go package %s is not in the README's layout table", dir)
		}
	}
}

// TestReadmeNamesTheStateFile: the state file the README names is the one
// the agent opens.
func TestReadmeNamesTheStateFile(t *testing.T) {
	m := agentapp.NewMain()
	m.Config.DataDir = "/var/lib/passline"
	name := filepath.Base(m.StatePath())
	for _, l := range section(t, "Where things live") {
		if strings.HasPrefix(l, "| state |") {
			if !strings.Contains(l, "`"+name+"`") {
				t.Fatalf("README's state row does not name the agent's state file %s: %s", name, l)
			}
			return
		}
	}
	t.Fatal("README has no state row under \"Where things live\"")
}

// makeTargets returns the Makefile's rule targets and the targets that
// have a "## target: what it does" comment.
func makeTargets(t *testing.T) (targets, documented []string) {
	t.Helper()
	b, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	rule := regexp.MustCompile(`^([a-z][a-z0-9-]*):([^=]|$)`)
	doc := regexp.MustCompile(`^## ([a-z][a-z0-9-]*): `)
	for _, l := range strings.Split(string(b), "\n") {
		if m := rule.FindStringSubmatch(l); m != nil {
			targets = append(targets, m[1])
		}
		if m := doc.FindStringSubmatch(l); m != nil {
			documented = append(documented, m[1])
		}
	}
	return targets, documented
}

// TestEveryMakeTargetDocumented: every target in the Makefile has a "##"
// comment (so `make help` shows it) and a row in the README's make
// targets table, and the table lists no target the Makefile lacks.
func TestEveryMakeTargetDocumented(t *testing.T) {
	targets, documented := makeTargets(t)
	var rows []string
	for _, c := range firstCells(section(t, "Make targets")) {
		rows = append(rows, strings.TrimPrefix(c, "make "))
	}
	for _, tg := range targets {
		if !slices.Contains(documented, tg) {
			t.Errorf("make target %s has no \"## %s:\" comment", tg, tg)
		}
		if !slices.Contains(rows, tg) {
			t.Errorf("make target %s is not in the README's make targets table", tg)
		}
	}
	for _, r := range rows {
		if !slices.Contains(targets, r) {
			t.Errorf("README lists make %s, which the Makefile does not have", r)
		}
	}
}

// TestMakeHelpListsEveryTarget runs `make help` and finds every target in
// its output, one per line, first.
func TestMakeHelpListsEveryTarget(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on this machine")
	}
	out, err := exec.Command("make", "--no-print-directory", "help").CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	var shown []string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") {
			shown = append(shown, f[0])
		}
	}
	targets, _ := makeTargets(t)
	for _, tg := range targets {
		if !slices.Contains(shown, tg) {
			t.Errorf("make help does not list %s:\n%s", tg, out)
		}
	}
}
