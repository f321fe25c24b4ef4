package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
)

// partitions -to records a new count on DECISIONS only when it multiplies
// the current one; relays then start with the new count and refuse the
// old one.
func TestPartitionsGrowsByMultiples(t *testing.T) {
	nc, js := natsdtest.JetStream(t)
	ctx := context.Background()
	setup := func(parts int) error {
		_, err := natsjs.Setup(ctx, js, natsjs.Options{Replicas: 1, DuplicateWindow: time.Minute, MaxAge: time.Hour,
			IdempotencyTTL: time.Hour, AssignmentTTL: time.Hour, PendingTTL: time.Hour, OrderViewTTL: time.Hour,
			OutboxDuplicate: time.Minute, Partitions: parts})
		return err
	}
	if err := setup(1); err != nil {
		t.Fatal(err)
	}
	url := nc.ConnectedUrl()
	if _, err := cli(t, "partitions", "-nats", url); err == nil {
		t.Fatal("partitions without -to accepted")
	}
	out, err := cli(t, "partitions", "-nats", url, "-to", "2")
	if err != nil || !strings.Contains(out, "1 → 2 partitions") || !strings.Contains(out, "partition(2,1)") {
		t.Fatalf("partitions -to 2: %q %v", out, err)
	}
	if _, err := cli(t, "partitions", "-nats", url, "-to", "3"); !errors.Is(err, natsjs.ErrPartitions) {
		t.Fatalf("2 → 3 partitions: %v, want a refusal", err)
	}
	if err := setup(1); !errors.Is(err, natsjs.ErrPartitions) {
		t.Fatalf("a relay with 1 partition after the change: %v", err)
	}
	if err := setup(2); err != nil {
		t.Fatalf("a relay with 2 partitions after the change: %v", err)
	}
	for _, name := range []string{"DECISIONS_0", "DECISIONS_1", "RIDER_OUTBOX", "RIDER_OUTBOX_1"} {
		if _, err := js.Stream(ctx, name); err != nil {
			t.Errorf("stream %s: %v", name, err)
		}
	}
}
