package agenttest

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/wire"
)

// PriorBucket creates KV PASSLINE_MODEL_PRIOR on the server at url,
// standing in for the cloud (passline-cloud model fit), on a connection
// closed at cleanup.
func PriorBucket(tb testing.TB, url string) jetstream.KeyValue {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: wire.BucketModelPrior})
	if err != nil {
		tb.Fatal(err)
	}
	return kv
}

// FleetPrior is a fleet prior for category of median prep about medianS
// seconds with little spread, as JSON: a new store on it is sure of its
// orders within minutes.
func FleetPrior(tb testing.TB, category string, medianS float64) []byte {
	tb.Helper()
	p := predict.DefaultPrior()
	p.Category = category
	p.Beta = [10]float64{0: math.Log(medianS)}
	p.Sigma, p.Tau = 0.1, 0.05
	b, err := json.Marshal(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
