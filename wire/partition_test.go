package wire_test

import (
	"testing"

	"github.com/passline/passline/wire"
)

func TestPartitionNames(t *testing.T) {
	for _, tc := range []struct {
		p, parts       int
		stream, filter string
	}{
		{0, 1, "DECISIONS", "passline.*.decision"},
		{0, 4, "DECISIONS_0", "passline.decision.0.*"},
		{3, 4, "DECISIONS_3", "passline.decision.3.*"},
	} {
		if got := wire.DecisionStream(tc.p, tc.parts); got != tc.stream {
			t.Errorf("DecisionStream(%d, %d) = %q, want %q", tc.p, tc.parts, got, tc.stream)
		}
		if got := wire.DecisionStreamSubject(tc.p, tc.parts); got != tc.filter {
			t.Errorf("DecisionStreamSubject(%d, %d) = %q, want %q", tc.p, tc.parts, got, tc.filter)
		}
	}
	if p, s, err := wire.ParsePartitionSubject(wire.PartitionSubject(3, "s1")); err != nil || p != 3 || s != "s1" {
		t.Errorf("ParsePartitionSubject: %d %q %v", p, s, err)
	}
	for _, bad := range []string{"passline.decision.x.s1", "passline.decision.-1.s1", "passline.s1.decision", "passline.decision.1.a.b"} {
		if _, _, err := wire.ParsePartitionSubject(bad); err == nil {
			t.Errorf("%q accepted as a partition subject", bad)
		}
	}
	if s, err := wire.DecisionStore("passline.s9.decision"); err != nil || s != "s9" {
		t.Errorf("DecisionStore of the plain subject: %q %v", s, err)
	}
	if got := wire.Partition("anything", 1); got != 0 {
		t.Errorf("Partition over 1 = %d", got)
	}
	_, dest := wire.DecisionMapping(4)
	if dest != "passline.decision.{{partition(4,1)}}.{{wildcard(1)}}" {
		t.Errorf("mapping destination %q", dest)
	}
}
