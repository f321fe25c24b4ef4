//go:build bench

package bench_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	agentapp "github.com/passline/passline/agent/app"
	agentconfig "github.com/passline/passline/agent/config"
	agentmqtt "github.com/passline/passline/agent/mqtt"
	cloudapp "github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/firmware-bridge/sim"
	"github.com/passline/passline/wire"
)

// quiet logs errors only: 200 agents at info level would measure slog.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// system is the whole pipeline in this process: one embedded MQTT broker
// shared by every store, n agents, and a relay with its embedded NATS.
type system struct {
	cloud  *cloudapp.Main
	broker *agentmqtt.Broker
	agents []*agentapp.Main
	stores []string
	// commits counts the agents' write transactions (each one fsyncs).
	commits atomic.Int64
}

// startSystem starts the relay (embedded NATS, auto-assign on), one MQTT
// broker and n agents, and waits until every agent is connected to both.
// setup, if not nil, adjusts each agent before it runs.
func startSystem(tb testing.TB, n int, setup func(*agentapp.Main)) *system {
	tb.Helper()
	s := &system{}
	cc := relaytest.Config(tb.TempDir())
	cc.Demo.AutoAssign, cc.Demo.Riders = true, 100
	cc.Consumer.AckWait = 30 * time.Second
	cc.Relay.Workers = envInt("PASSLINE_BENCH_WORKERS", 64)
	cc.Relay.ChannelWorkers = cc.Relay.Workers
	cc.LogLevel = "error"
	s.cloud = relaytest.MustRunWith(tb, cc, func(m *cloudapp.Main) { m.Logger = quiet })

	s.broker = &agentmqtt.Broker{Listen: "127.0.0.1:0", Log: quiet}
	if err := s.broker.Run(); err != nil {
		tb.Fatalf("mqtt broker: %v", err)
	}
	tb.Cleanup(func() { _ = s.broker.Close() })

	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	for i := range n {
		store := fmt.Sprintf("b%04d", i)
		m := agentapp.NewMain()
		m.Config = agentConfig(store, tb.TempDir(), s.broker.URL(), s.cloud.NATSURL())
		m.Log = quiet
		m.BeforeCommit = func() error { s.commits.Add(1); return nil }
		if setup != nil {
			setup(m)
		}
		if err := m.Run(ctx); err != nil {
			tb.Fatalf("agent %s: %v", store, err)
		}
		s.agents = append(s.agents, m)
		s.stores = append(s.stores, store)
	}
	tb.Cleanup(s.closeAgents)
	ok := waitFor(120*time.Second, func() bool {
		for _, m := range s.agents {
			st, err := m.Status()
			if err != nil || !st.Links.MQTT.Connected || !st.Links.NATS.Connected {
				return false
			}
		}
		return true
	})
	if !ok {
		tb.Fatalf("%d agents not all connected to MQTT and NATS within 120s", n)
	}
	return s
}

// closeAgents closes the agents in parallel (each may wait for its uplink).
func (s *system) closeAgents() {
	var wg sync.WaitGroup
	for _, m := range s.agents {
		wg.Go(func() { _ = m.Close() })
	}
	wg.Wait()
	s.agents = nil
}

// idle reports whether every agent's ingest queue and outbox are empty.
func (s *system) idle() bool {
	for _, m := range s.agents {
		st, err := m.Status()
		if err != nil || st.Ingest.Queue > 0 || st.Outbox.Depth > 0 {
			return false
		}
	}
	return true
}

// committed is the sum of every agent's committed inputs.
func (s *system) committed() int64 {
	var n int64
	for _, m := range s.agents {
		n += m.Writer.Committed()
	}
	return n
}

func agentConfig(store, dir, mqttURL, natsURL string) agentconfig.Config {
	c := agentconfig.DefaultConfig()
	c.Store = store
	c.MQTT.ClientID = store + "-agent"
	c.MQTT.URL = mqttURL
	c.NATS.URL = natsURL
	c.DataDir = dir
	c.HTTP.Listen = ""
	c.LogLevel = "error"
	c.Ingest.AutoStart = true
	return c
}

// kitchenConfig is a busy kitchen: ordersPerSec orders a clock second,
// four times the default cooks so it keeps up, no peaks, prep compressed
// by speed.
func kitchenConfig(ordersPerSec, speed float64) sim.Config {
	c := sim.DefaultConfig()
	c.Peaks = false
	c.Speed = speed
	c.OrdersPerMinute = ordersPerSec * 60 / speed
	c.MaxOpenOrders = 100
	stations := make([]sim.Station, len(c.Stations))
	copy(stations, c.Stations)
	for i := range stations {
		stations[i].Cooks *= 4
	}
	c.Stations = stations
	return c
}

// load runs the simulated kitchens of every store through groups drivers,
// each with its own paho client, so one slow publish does not hold up the
// whole load.
type load struct {
	drivers []*sim.Driver
	clients []paho.Client
}

func startLoad(tb testing.TB, url string, stores []string, cfg sim.Config, groups int) *load {
	tb.Helper()
	l := &load{}
	start := time.Now()
	for g := range groups {
		var mine []string
		for i := g; i < len(stores); i += groups {
			mine = append(mine, stores[i])
		}
		if len(mine) == 0 {
			continue
		}
		c := mqttClient(tb, url, fmt.Sprintf("bench-sim-%d-%d", g, start.UnixNano()))
		l.clients = append(l.clients, c)
		d, err := sim.NewDriver(cfg, mine, uint64(1000*g+1), start, &publisher{c: c})
		if err != nil {
			tb.Fatal(err)
		}
		d.Logger = quiet
		if err := d.Start(context.Background()); err != nil {
			tb.Fatal(err)
		}
		l.drivers = append(l.drivers, d)
	}
	return l
}

// stop stops every kitchen; it returns events published and failed.
func (l *load) stop() (published, failed int) {
	for _, d := range l.drivers {
		_ = d.Close()
		p, f := d.Counts()
		published, failed = published+p, failed+f
	}
	for _, c := range l.clients {
		c.Disconnect(100)
	}
	return published, failed
}

// publisher is a bridge.Publisher for many stores over one paho client:
// QoS 1 on the event's wire topic, waiting for the broker's PUBACK.
type publisher struct{ c paho.Client }

func (p *publisher) Publish(dev wire.Device, ev wire.Event) error {
	b, err := ev.Marshal()
	if err != nil {
		return err
	}
	topic := wire.Topic{Store: ev.Store, Device: dev, DeviceID: ev.DeviceID, Event: ev.Kind}.String()
	tok := p.c.Publish(topic, 1, false, b)
	if !tok.WaitTimeout(10 * time.Second) {
		return errors.New("publish: no PUBACK in 10s")
	}
	return tok.Error()
}

func mqttClient(tb testing.TB, url, id string) paho.Client {
	tb.Helper()
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(true).SetMaxResumePubInFlight(1024)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("connect %s: %v", url, tok.Error())
	}
	return c
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
