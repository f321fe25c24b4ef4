package ratelimit

import (
	"context"
)

// DayCounter counts a client's accepted requests per day for every relay
// replica at once, so the daily cap holds across replicas.
type DayCounter interface {
	// Take adds one to client's count for day unless it already reached
	// limit; it reports whether it did and the count after.
	Take(ctx context.Context, client, day string, limit int) (ok bool, count int, err error)
}
