//go:build bench

package bench_test

import (
	"testing"
	"time"
)

func TestTmpLat(t *testing.T) {
	p50, p99, n := latency(t, 7700, 8*time.Second)
	t.Log(p50, p99, n)
}
