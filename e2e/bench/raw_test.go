//go:build bench

package bench_test

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	bbolt "go.etcd.io/bbolt"
)

// rawPaho is the broker's QoS 1 passthrough: one publisher sends n
// 300-byte messages without waiting per message, one subscriber receives
// them; msg/s from the first publish to the last receive.
func rawPaho(tb testing.TB, url string, n int) float64 {
	tb.Helper()
	var got atomic.Int64
	done := make(chan struct{})
	sub := mqttClient(tb, url, fmt.Sprintf("bench-raw-sub-%d", time.Now().UnixNano()))
	defer sub.Disconnect(100)
	if tok := sub.Subscribe("benchraw/#", 1, func(paho.Client, paho.Message) {
		if got.Add(1) == int64(n) {
			close(done)
		}
	}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("subscribe: %v", tok.Error())
	}
	pub := mqttClient(tb, url, fmt.Sprintf("bench-raw-pub-%d", time.Now().UnixNano()))
	defer pub.Disconnect(100)
	payload := make([]byte, 300)
	start := time.Now()
	toks := make([]paho.Token, 0, 512)
	for i := range n {
		toks = append(toks, pub.Publish("benchraw/x", 1, false, payload))
		if len(toks) == cap(toks) || i == n-1 { // bounded in flight
			for _, t := range toks {
				if !t.WaitTimeout(60*time.Second) || t.Error() != nil {
					tb.Fatalf("raw publish: %v", t.Error())
				}
			}
			toks = toks[:0]
		}
	}
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		tb.Fatalf("raw paho: %d of %d received", got.Load(), n)
	}
	return float64(n) / time.Since(start).Seconds()
}

// rawBolt is bbolt's commit rate with fsync on: writers goroutines, each
// on its own file as each agent has, commit transactions of batch
// 300-byte records for dur. It returns transactions/s and records/s summed
// over the writers.
func rawBolt(tb testing.TB, writers, batch int, dur time.Duration) (txPerSec, recPerSec float64) {
	tb.Helper()
	var txs atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(dur)
	val := make([]byte, 300)
	start := time.Now()
	for w := range writers {
		db, err := bbolt.Open(filepath.Join(tb.TempDir(), fmt.Sprintf("raw-%d.db", w)), 0o600, &bbolt.Options{Timeout: time.Second})
		if err != nil {
			tb.Fatal(err)
		}
		wg.Go(func() {
			defer db.Close()
			var seq uint64
			for time.Now().Before(stop) {
				err := db.Update(func(tx *bbolt.Tx) error {
					b, err := tx.CreateBucketIfNotExists([]byte("raw"))
					if err != nil {
						return err
					}
					for range batch {
						seq++
						if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), val); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					tb.Error(err)
					return
				}
				txs.Add(1)
			}
		})
	}
	wg.Wait()
	sec := time.Since(start).Seconds()
	return float64(txs.Load()) / sec, float64(txs.Load()*int64(batch)) / sec
}
