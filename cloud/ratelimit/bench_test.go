package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/passline/passline/cloud/ratelimit"
)

// BenchmarkAllow measures one limit decision for one of 1,000 clients.
func BenchmarkAllow(b *testing.B) {
	c := &clock{t: t0}
	l := ratelimit.New(nil, c.Now, nil)
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprint("client-", i)
	}
	i := 0
	for b.Loop() {
		l.Allow(ids[i%len(ids)], "enterprise")
		i++
		if i%1000 == 0 {
			c.Add(time.Millisecond)
		}
	}
}
