package chaos_test

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// settings size the run. The default is the short version, part of the
// default test suite: about 75 s of faults, 3 stores, at most 40 faults,
// and under 2.5 minutes in all. PASSLINE_CHAOS=long is `make chaos`:
// 9.5 minutes of faults on 4 stores. PASSLINE_CHAOS_DURATION (a Go
// duration up to 13m) overrides how long faults are injected,
// PASSLINE_CHAOS_STORES the number of agents.
type settings struct {
	duration, gap, uplinkCut, pause time.Duration
	settle                          time.Duration // each wait for the system to drain
	maxFaults, stores               int
	ordersPerSec                    float64
}

func load(t *testing.T) settings {
	s := settings{duration: 75 * time.Second, gap: time.Second, uplinkCut: 20 * time.Second, pause: 8 * time.Second,
		settle: 45 * time.Second, maxFaults: 40, stores: 3, ordersPerSec: 0.5}
	switch mode := os.Getenv("PASSLINE_CHAOS"); mode {
	case "", "short":
	case "long":
		s.duration, s.uplinkCut, s.settle, s.maxFaults, s.stores = 9*time.Minute+30*time.Second, 2*time.Minute, 80*time.Second, 400, 4
	default:
		t.Fatalf("PASSLINE_CHAOS=%q: want short or long", mode)
	}
	if v := os.Getenv("PASSLINE_CHAOS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 13*time.Minute {
			t.Fatalf("PASSLINE_CHAOS_DURATION=%q: want a duration up to 13m", v)
		}
		s.duration = d
	}
	if n, err := strconv.Atoi(os.Getenv("PASSLINE_CHAOS_STORES")); err == nil && n > 1 {
		s.stores = n
	}
	return s
}

// faultKinds are the faults a run must inject, each at least once.
var faultKinds = []string{"agent SIGKILL", "NATS node stop", "relay SIGKILL", "MQTT broker restart", "SIGSTOP/SIGCONT", "uplink cut"}

// missingKinds returns the fault kinds in faultKinds that faults has none of.
func missingKinds(faults map[string]int) []string {
	var out []string
	for _, k := range faultKinds {
		if faults[k] == 0 {
			out = append(out, k)
		}
	}
	return out
}
