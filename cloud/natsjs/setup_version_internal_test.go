package natsjs

import "testing"

func TestVersionBefore(t *testing.T) {
	for _, tc := range []struct {
		version         string
		before, beforeP bool // before MinServer, before MinServerPartitions
	}{
		{"2.9.10", false, true},
		{"2.9.0", false, true},
		{"2.8.4", true, true},
		{"1.4.1", true, true},
		{"2.10.0", false, false},
		{"2.10.0-beta.1", false, false},
		{"2.15.2", false, false},
		{"3.0.0", false, false},
		{"", false, false},
		{"garbage", false, false},
	} {
		if got := versionBefore(tc.version, MinServer); got != tc.before {
			t.Errorf("versionBefore(%q, %v) = %v, want %v", tc.version, MinServer, got, tc.before)
		}
		if got := versionBefore(tc.version, MinServerPartitions); got != tc.beforeP {
			t.Errorf("versionBefore(%q, %v) = %v, want %v", tc.version, MinServerPartitions, got, tc.beforeP)
		}
	}
}
