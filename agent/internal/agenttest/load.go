package agenttest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/passline/passline/wire"
)

// Load publishes ticket+bump pairs with QoS 1 until stopped, remembering
// the ids of the events the broker acknowledged.
type Load struct {
	// Persistent, set before Start, gives the publisher a persistent
	// session (CleanSession false, a stable client id, so paho resends
	// in-flight publishes after a reconnect) and republishes an event the
	// broker did not ack, up to 50 times, instead of skipping it.
	Persistent bool

	tb     testing.TB
	url    string
	store  string
	done   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	acked  []string
	bumped map[string]bool
}

// NewLoad prepares a load on the broker at url for store.
func NewLoad(tb testing.TB, url, store string) *Load {
	return &Load{tb: tb, url: url, store: store, done: make(chan struct{}), bumped: map[string]bool{}}
}

// Start publishes in the background: one order every pause, at most 100,000.
func (l *Load) Start(pause time.Duration) {
	c := Publisher(l.tb, l.url)
	tries := 1
	if l.Persistent {
		c, tries = PersistentPublisher(l.tb, l.url, l.store+"-load"), 50
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for i := 0; i < 100_000; i++ {
			select {
			case <-l.done:
				return
			default:
			}
			o := fmt.Sprintf("o%d", i)
			now := time.Now()
			for _, ev := range []wire.Event{Ticket(l.store, o, "grill", now.Add(-2*time.Minute)), Bump(l.store, o, now)} {
				if !l.publish(c, ev, tries) {
					continue // not acked by the broker: no promise to check
				}
				l.mu.Lock()
				l.acked = append(l.acked, ev.ID)
				if ev.Kind == wire.EventKey {
					l.bumped[o] = true
				}
				l.mu.Unlock()
			}
			time.Sleep(pause)
		}
	}()
}

// publish sends ev with QoS 1 until the broker acks it, at most tries times
// and not after Stop.
func (l *Load) publish(c paho.Client, ev wire.Event, tries int) bool {
	b, _ := ev.Marshal()
	for i := 0; i < tries; i++ {
		tok := c.Publish(Topic(ev), 1, false, b)
		if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
			return true
		}
		select {
		case <-l.done:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// Stop ends the load and waits for the publisher.
func (l *Load) Stop() { close(l.done); l.wg.Wait() }

// Results are the acked event ids and the orders whose bump was acked.
func (l *Load) Results() ([]string, map[string]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.acked...), l.bumped
}
