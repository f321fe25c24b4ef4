//go:build bench

package bench_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/relaytest"
)

func TestKVRate(t *testing.T) {
	s := server(t)
	nc, js := relaytest.Connect(t, s.ClientURL())
	ctx := context.Background()
	kv, _ := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "B", TTL: time.Hour})
	js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.*"}, Duplicates: 10 * time.Minute, MaxAge: 10 * time.Minute,
		RePublish: &jetstream.RePublish{Source: "o.*", Destination: "r.{{wildcard(1)}}"}})
	js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.*"}, Duplicates: 10 * time.Minute, MaxAge: 10 * time.Minute})
	nc.Subscribe("r.*", func(*nats.Msg) {})
	run := func(name string, n int, fn func(i int) error) {
		var wg sync.WaitGroup
		start := time.Now()
		var errs int
		var mu sync.Mutex
		for w := range 128 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 128 {
					if err := fn(i); err != nil {
						mu.Lock()
						errs++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		fmt.Printf("%-30s %8.0f/s errs %d\n", name, float64(n)/time.Since(start).Seconds(), errs)
	}
	run("kv create", 20000, func(i int) error { _, err := kv.Create(ctx, fmt.Sprintf("d%d", i), []byte("x")); return err })
	run("kv get missing", 20000, func(i int) error { kv.Get(ctx, fmt.Sprintf("x%d", i)); return nil })
	run("kv get present", 20000, func(i int) error { _, err := kv.Get(ctx, fmt.Sprintf("d%d", i)); return err })
	run("js publish plain", 20000, func(i int) error { _, err := js.Publish(ctx, fmt.Sprintf("p.%d", i%20), []byte("x")); return err })
	run("js publish msgid", 20000, func(i int) error {
		_, err := js.Publish(ctx, fmt.Sprintf("p.%d", i%20), []byte("x"), jetstream.WithMsgID(fmt.Sprint("m", i)))
		return err
	})
	kv2, _ := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "C"})
	run("kv create no ttl", 20000, func(i int) error { _, err := kv2.Create(ctx, fmt.Sprintf("d%d", i), []byte("x")); return err })
	run("kv create ttl again", 20000, func(i int) error { _, err := kv.Create(ctx, fmt.Sprintf("e%d", i), []byte("x")); return err })
	run("kv put ttl", 20000, func(i int) error { _, err := kv.Put(ctx, fmt.Sprintf("f%d", i), []byte("x")); return err })
	run("js publish msgid+republish", 20000, func(i int) error {
		_, err := js.Publish(ctx, fmt.Sprintf("o.%d", i%20), []byte("x"), jetstream.WithMsgID(fmt.Sprint("m", i)))
		return err
	})
}
