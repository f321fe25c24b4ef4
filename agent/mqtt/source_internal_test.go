package mqtt

import "testing"

func TestIsCommand(t *testing.T) {
	for topic, want := range map[string]bool{
		"passline/v1/s1/cmd/light1/on":           true,
		"passline/v1/s1/printer/p1/ticket":       false,
		"passline/v1/s1/cmd":                     false,
		"passline/v1/s1/bumpbar/cmd/key":         false,
		"passline/v1/s1/cmd/light1/on/extra/x/y": true,
	} {
		if got := isCommand(topic); got != want {
			t.Errorf("isCommand(%q) = %v", topic, got)
		}
	}
}
