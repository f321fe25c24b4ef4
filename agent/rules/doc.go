// Package rules decides what to tell an order's rider: condition → action
// pairs from the store's config, written as expr-lang/expr expressions,
// compiled and type-checked once (Compile, New) and evaluated over an order
// and the store's prep-time model (agent/predict). Engine implements
// agent.Decider (and agent.Learner, and encoding.BinaryMarshaler for the
// model), so the agent commits each decision to its outbox in the same
// transaction as the change that caused it.
//
// # Writing rules
//
//	rules:
//	  - name: ready_soon
//	    emit: ready_soon
//	    when: cooking && !sent("ready_soon") && p_ready(lead_time) >= confidence_threshold
//
// An empty rules list means DefaultRules; a non-empty list replaces them
// entirely (copy the defaults you want to keep). Rules are evaluated in
// order and each fires at most once per evaluation.
//
// A condition must be a boolean expression over Env (see its fields for
// the full list): order.{id, items, station, open_orders, promised, ...},
// event.{id, kind, action, status, device}, status, from, transition, started,
// tick, cooking, elapsed, eta, the parameters prediction_window,
// confidence_threshold, retry_interval and lead_time, and the functions
// p_ready(d), sent(kind), since_sent(kind), slip() and eta_moved().
//
// Every duration is a number of seconds: elapsed, eta, the parameters,
// the argument of p_ready and what since_sent, slip and eta_moved return.
// Write five minutes as 300 or 5*60.
//
// A rule that does not compile — bad syntax, an unknown name, a wrong type,
// a condition that is not boolean — is refused with its index, name, line,
// column and reason (*RuleError), and the agent does not start.
//
// # Only the kitchen says ready
//
// A rule that emits ready must depend on the kitchen event: its condition
// must refer to transition or event, or it is refused at compile time.
// At run time, whatever the condition says, ready is emitted only when a
// real kitchen event (a bump, a scan of the ticket, a scale weight, a POS
// status) has just moved
// the order to done or packed — transition is non-empty exactly then — and
// it names that event (EventID). A ready asked for otherwise is dropped
// and counted (BlockedReady). A ready less than a minute after the order's
// ticket carries wire.FlagEarlyReady.
//
// Only a rule whose condition depends on the kitchen event (transition,
// event or started) names the event in its decisions; a prediction rule
// (ready_soon, eta, delayed on the model) names none even when it fires
// while an event is evaluated, because delivery platforms take a decision
// that names a kitchen event for the kitchen's own word. Decisions made
// when a kitchen event starts the order carry wire.FlagCookStart.
//
// # Default rules
//
// DefaultRules, evaluated in this order:
//
//   - cancelled: once, when the order is cancelled.
//   - ready: once, on the bump or the pack that made the food ready.
//   - delayed: when, after ready_soon, the predicted ready time slips 3
//     minutes or more past the last ready time a rider acted on (ready_soon
//     or the previous delayed), so a rider who has not left can wait.
//   - ready_soon: once, when P(ready within lead_time | elapsed) reaches
//     confidence_threshold; lead_time is the rider's travel time when the
//     assignment gave one.
//   - eta: countdown while the predicted ready time is inside
//     prediction_window, sent only when it moved a minute or more from the
//     last ready time told.
//
// Each decision has the stable id {store}.{order}.{kind}.{seq}, its ETA
// (the predicted ready time, now for ready) and Probability
// (P(ready within lead_time | elapsed), 1 for ready).
//
// # Scheduling
//
// The agent's writer calls Decide on every event for the order it changed
// and, every retry_interval, for every open order. A re-evaluation of
// 5,000 open orders takes about 20-40 ms on the 2-core box
// (BenchmarkTick5000), so it fits inside one transaction per tick.
//
// # Simulation
//
// TestSimulatedRiderWait drives the default rules with a virtual kitchen
// (FIFO queue behind three cooks, lunch and dinner peaks, 2% forgotten
// orders) and compares what riders live through; see the test for the
// figures and PASSLINE_SIM_ORDERS for a longer run.
package rules
