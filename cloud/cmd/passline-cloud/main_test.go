package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string // "" means flag.ErrHelp
		out  string
	}{
		{[]string{"--help"}, "", "passline-cloud tail"},
		{[]string{"help"}, "", "-config PATH"},
		{[]string{"run", "-config", filepath.Join(t.TempDir(), "none.yaml")}, "no such file", ""},
		{[]string{"-nosuchflag"}, "flag provided but not defined", ""},
		{[]string{"tail", "-rider", "bad rider"}, "not a valid id", ""},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, &stdout, &stderr)
		switch {
		case tc.err == "" && !errors.Is(err, flag.ErrHelp):
			t.Errorf("%v: err %v, want help", tc.args, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.err)
		}
		if !strings.Contains(stdout.String(), tc.out) {
			t.Errorf("%v: stdout %q lacks %q", tc.args, stdout.String(), tc.out)
		}
	}
}
