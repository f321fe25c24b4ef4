package mqtt

import "testing"

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		filter, topic string
		want          bool
	}{
		{"a/b/c", "a/b/c", true},
		{"a/+/c", "a/x/c", true},
		{"a/+/c", "a/x/d", false},
		{"a/#", "a/x/y/z", true},
		{"a/+", "a/x/y", false},
		{"a/b/c", "a/b", false},
		{"passline/v1/s1/cmd/gpio-1/+", "passline/v1/s1/cmd/gpio-1/buzzer", true},
	} {
		if got := match(tc.filter, tc.topic); got != tc.want {
			t.Errorf("match(%q, %q) = %v", tc.filter, tc.topic, got)
		}
	}
}
