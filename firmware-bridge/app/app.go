// Package app wires the firmware-bridge: the MQTT client and the drivers
// the configuration enables. Tests build a Main directly with a temp
// config and random ports, so they run the real program.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/passline/passline/internal/tracing"

	"github.com/prometheus/client_golang/prometheus"
	"periph.io/x/conn/v3/gpio"

	"github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/firmware-bridge/mqtt"
	"github.com/passline/passline/firmware-bridge/sim"
	"github.com/passline/passline/internal/service"
)

// Main is the bridge program.
type Main struct {
	Config config.Config
	Logger *slog.Logger

	// PinByName finds GPIO pins; nil means periph's gpioreg.ByName (the
	// program calls host.Init first). Tests plug gpiotest pins in here.
	PinByName func(name string) gpio.PinIO

	// Set by Run, for tests and diagnostics.
	MQTT  *mqtt.Client
	Sim   *sim.Driver
	Proxy *escpos.Proxy // its Addr is the print port actually bound

	// Registry holds the bridge's metrics, served on http.listen at
	// /metrics; set by Run.
	Registry *prometheus.Registry

	metrics *metrics
	httpLn  net.Listener
	cancel  context.CancelFunc
	started service.Stack
	checks  []namedCheck // started drivers that report their loops (Alive)
	inputs  []input      // started evdev drivers, for their ignored-input counts
}

// NewMain returns a Main with the default config; set Config before Run.
func NewMain() *Main {
	return &Main{Config: config.DefaultConfig(), Logger: slog.Default()}
}

// Run validates the config, connects to the broker and starts every
// enabled driver, then returns; drivers run until Close, whatever happens
// to ctx afterwards (ctx bounds start-up only). On error,
// whatever was started is closed again.
func (m *Main) Run(ctx context.Context) (err error) {
	if err := m.Config.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// ctx bounds start-up only; what Run starts lives until Close.
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	c := m.Config
	ctls, err := c.MQTT.TLS.Client()
	if err != nil {
		return fmt.Errorf("mqtt.tls: %w", err)
	}
	tp, err := tracing.New(c.Tracing, "passline-bridge", attribute.String("passline.store", c.Store))
	if err != nil {
		return err
	}
	m.started.Push("tracing", tp.Close)
	m.MQTT = mqtt.New(mqtt.Options{
		URL: c.MQTT.URL, Username: c.MQTT.Username, Password: c.MQTT.Password, TLS: ctls,
		ClientID: c.ClientID(), Store: c.Store, DeviceID: c.DeviceID,
		KeepAlive: c.MQTT.KeepAlive, ConnectTimeout: c.MQTT.ConnectTimeout,
		PublishTimeout: c.MQTT.PublishTimeout, Logger: m.Logger, Tracer: tp.Tracer("github.com/passline/passline/firmware-bridge"),
	})
	if err := m.MQTT.Connect(ctx); err != nil {
		return err
	}
	m.started.Push("mqtt", m.MQTT.Close)
	m.Registry = prometheus.NewRegistry()
	m.metrics = newMetrics(m.Registry, m.MQTT)
	if err := m.startHTTP(); err != nil {
		return err
	}
	return m.startDrivers(bg)
}

// pub is what drivers publish through: the MQTT client, metered.
func (m *Main) pub() meteredPublisher { return meteredPublisher{next: m.MQTT, m: m.metrics} }

func (m *Main) startSim(ctx context.Context) error {
	c := m.Config.Sim
	d, err := sim.NewDriver(c.Kitchen, m.Config.SimStores(), c.Seed, time.Now(), m.pub())
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	d.Tick, d.Logger = c.Tick, m.Logger.With("driver", "sim")
	if err := m.start(ctx, "sim", d); err != nil {
		return err
	}
	m.Sim = d
	m.Logger.Info("sim kitchen running", "stores", m.Config.SimStores(), "speed", c.Kitchen.Speed, "orders_per_minute", c.Kitchen.OrdersPerMinute)
	return nil
}

// Close stops the drivers, then marks the bridge offline and disconnects,
// in reverse order of Run. It is safe to call more than once.
func (m *Main) Close() error {
	if m.cancel != nil {
		m.cancel()
	}
	m.checks, m.inputs = nil, nil
	return m.started.Close()
}
