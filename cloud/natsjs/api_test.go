package natsjs_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/wire"
)

// SetupAPI makes every bucket of the HTTP API and no rider stream (the
// rider outbox is the riders' log), and running it again (another
// replica, a restart) changes nothing.
func TestSetupAPI(t *testing.T) {
	_, js := natsdtest.JetStream(t)
	ctx := context.Background()
	for range 2 {
		api, err := natsjs.SetupAPI(ctx, js, 1)
		if err != nil {
			t.Fatal(err)
		}
		if api.RiderStream != "" {
			t.Fatalf("rider stream %q", api.RiderStream)
		}
	}
	if _, err := js.Stream(ctx, natsjs.StreamRiders); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("stream %s: %v; SetupAPI must not store every notification a second time", natsjs.StreamRiders, err)
	}
	for _, b := range []string{natsjs.BucketClients, natsjs.BucketRates, wire.BucketConfig, wire.BucketConfigStatus} {
		if _, err := js.KeyValue(ctx, b); err != nil {
			t.Errorf("bucket %s: %v", b, err)
		}
	}
}

// A stream that already captures rider subjects is used as it is.
func TestEnsureRiderStreamKeepsAnExistingOne(t *testing.T) {
	_, js := natsdtest.JetStream(t)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "MINE", Subjects: []string{wire.RiderWildcard}}); err != nil {
		t.Fatal(err)
	}
	name, err := natsjs.EnsureRiderStream(ctx, js, time.Hour, 1)
	if err != nil || name != "MINE" {
		t.Fatalf("EnsureRiderStream = %q, %v; want MINE", name, err)
	}
}

// Only natsjs creates or changes the cloud's streams and buckets; other
// packages declare the small interfaces they need and natsjs implements
// them. Benchmarks' own raw streams (cloud/bench) are not the relay's.
func TestOnlyNatsjsDeclaresSchema(t *testing.T) {
	schema := regexp.MustCompile(`\.(CreateOrUpdateKeyValue|CreateKeyValue|UpdateKeyValue|CreateOrUpdateStream|CreateStream|UpdateStream)\(`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "natsjs" || d.Name() == "bench") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if schema.MatchString(line) {
				t.Errorf("%s:%d creates JetStream state outside natsjs: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
