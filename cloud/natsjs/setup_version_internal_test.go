package natsjs

import "testing"

func TestVersionBefore(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool
	}{
		{"2.9.10", true},
		{"2.9.25", true},
		{"1.4.1", true},
		{"2.10.0", false},
		{"2.10.0-beta.1", false},
		{"2.15.2", false},
		{"3.0.0", false},
		{"", false},
		{"garbage", false},
	} {
		if got := versionBefore(tc.version, MinServer); got != tc.want {
			t.Errorf("versionBefore(%q, %v) = %v, want %v", tc.version, MinServer, got, tc.want)
		}
	}
}
