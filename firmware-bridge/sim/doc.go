// Package sim is the virtual kitchen: it prints tickets, taps the bump bar
// and weighs bags as a real kitchen's devices would, for the demo, load
// tests, benchmarks and evaluating the prediction model.
//
// The model is a pure, seeded, deterministic discrete-event simulation with
// no I/O and no clock of its own:
//
//	k, err := sim.NewKitchen(cfg, seed, start) // cfg from sim.DefaultConfig()
//	events := k.Step(now)                        // everything up to now, in order
//	truth := k.TakeOutcomes()                    // ground truth of bumped orders
//
// Orders arrive as a Poisson process (the first one at opening) whose rate
// follows lunch and dinner peaks when Config.Peaks is set. Each order has
// 1-4 dishes; each dish line queues at its station behind the station's
// cooks, first come first served, so true prep times grow with load and
// with the dish mix (an order is done when its slowest line is). About
// Config.RemakeRate of orders have one dish cooked again before the bump.
// A bump key follows the last dish by
// Config.BumpDelay (5-30 s unless set), and the bag is weighed
// (stable, with the order id) 20-90 s after the bump.
//
// Config.Speed compresses kitchen time: all durations and rates in Config
// are kitchen time, while Step's argument and every event's timestamp are
// clock time. Stepping by a second or by an hour yields the same events.
//
// Driver runs kitchens against the wall clock and publishes through a
// bridge.Publisher; that is the bridge's "sim" driver.
package sim
