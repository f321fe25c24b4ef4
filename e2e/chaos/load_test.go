package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/passline/passline/firmware-bridge/sim"
	"github.com/passline/passline/wire"
)

// tracker is the kitchens' publisher: QoS 1, retried until the broker
// acknowledges (PUBACK) or 2 minutes pass, as a bridge's backlog would.
// It records which orders had both their ticket and their bump
// acknowledged: those must each produce exactly one ready.
type tracker struct {
	c    paho.Client
	stop chan struct{}

	mu       sync.Mutex
	tickets  map[string]bool // store/order → ticket acknowledged
	bumps    map[string]bool // store/order → bump acknowledged
	failed   int
	retries  int
	publishd int
}

func newTracker(t *testing.T, url string) *tracker {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("chaos-kitchen-%d", time.Now().UnixNano())).
		SetCleanSession(true).SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).
		SetMaxReconnectInterval(time.Second)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", url, tok.Error())
	}
	tr := &tracker{c: c, stop: make(chan struct{}), tickets: map[string]bool{}, bumps: map[string]bool{}}
	t.Cleanup(func() { c.Disconnect(100) })
	return tr
}

// Publish implements bridge.Publisher.
func (tr *tracker) Publish(dev wire.Device, ev wire.Event) error {
	b, err := ev.Marshal()
	if err != nil {
		return err
	}
	topic := wire.Topic{Store: ev.Store, Device: dev, DeviceID: ev.DeviceID, Event: ev.Kind}.String()
	deadline := time.Now().Add(2 * time.Minute)
	for try := 0; ; try++ {
		tok := tr.c.Publish(topic, 1, false, b)
		if tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			break
		}
		select {
		case <-tr.stop:
			return tr.fail(errors.New("stopped before PUBACK"))
		default:
		}
		if time.Now().After(deadline) {
			return tr.fail(fmt.Errorf("no PUBACK for %s in 2m", ev.ID))
		}
		tr.mu.Lock()
		tr.retries++
		tr.mu.Unlock()
		time.Sleep(200 * time.Millisecond)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.publishd++
	switch {
	case ev.Kind == wire.EventTicket && ev.Ticket != nil:
		tr.tickets[ev.Store+"/"+ev.Ticket.OrderID] = true
	case ev.Kind == wire.EventKey && ev.Key != nil && ev.Key.Action == wire.KeyBump && ev.Key.OrderID != "":
		tr.bumps[ev.Store+"/"+ev.Key.OrderID] = true
	}
	return nil
}

func (tr *tracker) fail(err error) error {
	tr.mu.Lock()
	tr.failed++
	tr.mu.Unlock()
	return err
}

// expected returns the orders whose ticket and bump were both acknowledged.
func (tr *tracker) expected() map[string]bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := map[string]bool{}
	for k := range tr.bumps {
		if tr.tickets[k] {
			out[k] = true
		}
	}
	return out
}

// startKitchens drives a simulated kitchen per store through tr:
// ordersPerSec orders a second per store, preparation compressed 60×.
func startKitchens(t *testing.T, tr *tracker, stores []string, ordersPerSec float64) *sim.Driver {
	t.Helper()
	c := sim.DefaultConfig()
	c.Peaks, c.Speed, c.RemakeRate = false, 60, 0
	c.OrdersPerMinute = ordersPerSec
	c.MaxOpenOrders = 100
	st := make([]sim.Station, len(c.Stations))
	copy(st, c.Stations)
	for i := range st {
		st[i].Cooks *= 4
	}
	c.Stations = st
	d, err := sim.NewDriver(c, stores, 7, time.Now(), tr)
	if err != nil {
		t.Fatal(err)
	}
	d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}
