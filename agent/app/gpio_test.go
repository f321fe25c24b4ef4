package app_test

import (
	"fmt"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/app"
	"github.com/passline/passline/agent/config"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

// TestGPIOBumpReachesTheStream wires a gpiotest pin as the grill's bump
// key: a debounced press bumps the oldest grill order and its ready
// decision reaches the stream.
func TestGPIOBumpReachesTheStream(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	c := testConfig("s1", n.URL(), t.TempDir())
	c.GPIO = config.GPIO{Enabled: true, DeviceID: "gpio", Debounce: 10 * time.Millisecond,
		Pins: []config.Pin{{Pin: "GPIO17", Action: "bump", Station: "grill", ActiveLow: true}}}
	pin := &gpiotest.Pin{N: "GPIO17", EdgesChan: make(chan gpio.Level, 8)}
	m := runMain(t, c, agent.BasicDecider{}, func(m *app.Main) {
		m.Pins = func(name string) (app.PinIn, error) {
			if name != "GPIO17" {
				return nil, fmt.Errorf("no pin %s", name)
			}
			return pin, nil
		}
	})
	pub := at.Publisher(t, "tcp://"+m.MQTTAddr())
	at.Publish(t, pub, at.Ticket("s1", "o1", "grill", time.Now().Add(-3*time.Minute)))
	at.Eventually(t, 20*time.Second, "ticket committed", func() bool { return m.Writer.Committed() >= 1 })
	pin.EdgesChan <- gpio.Low // press, held
	at.Eventually(t, 20*time.Second, "ready in the stream", func() bool {
		for _, d := range at.Decisions(t, n.URL()) {
			if d.Kind == wire.KindReady && d.OrderID == "o1" {
				return true
			}
		}
		return false
	})
}
