// Package predict is Passline's per-store prep-time model: pure Go, no
// I/O, learned online on the in-store box from completed orders, and
// serialised with MarshalBinary into the agent's state db. The same code
// serves live decisions and the offline evaluation.
//
// # What it answers
//
// For an order with Features (what is known at accept: items, value, SKUs
// and station when the ticket has them, kitchen load, hour, weekday),
// Model.Predict returns a Prediction: the median prep time (MAE-optimal),
// quantiles, the median remaining time, and PReady(elapsed, d) =
// P(T ≤ elapsed+d | T > elapsed), the probability a rider acts on.
//
// # Method
//
// The predictive distribution of log prep time is a mixture of two parts.
//
// The fleet part starts from a Prior for the store's category, fitted in
// the cloud across many stores (FitFleet: a pooled regression on items,
// value, hour, weekday and load; σ, the spread of orders around their
// store; τ, the spread of stores around the category). The store's own
// orders shift it by their mean residual shrunk by n/(n + σ²/τ²), and its
// spread is σ² plus the store effect's remaining variance 1/(1/τ² + n/σ²):
// a new store gets the category's centre and honest, wide odds that
// narrow as its history grows.
//
// The own part is the store's online model: ridge regression on log prep
// time (exponentially decayed normal equations, about 4,000 orders of
// memory, pulled toward the prior's coefficients), SKU and station efforts
// learned as shrunken target encodings, a fast recent-bias level, and the
// empirical distribution of its own out-of-sample residuals. Its weight
// after n orders is 1 − (60/(n+60))²: a quarter at 20, three quarters at
// 60, all of it by the thousands.
//
// The mixture is then corrected per size class of the store (0-9, 10-49,
// 50-199, 200-999 orders learned; from 1,000 on a store's own residuals
// calibrate it and only the decision maps apply): the CDF by a
// recalibration fitted on probability integral transforms, and
// P(ready within d | elapsed) by a decision map per horizon, a monotone
// map from predicted to observed frequency lowered by one standard error
// of its band. Both are fitted on stores held out of the prior's fit (two
// folds of stores, each replayed from a prior fitted on the other), so
// they are out-of-sample corrections, a conformal step, not a fit to the
// orders they then judge.
//
// # Evidence
//
// Time-ordered 80/20 replays, every order predicted at accept from what
// had completed before, the fleet prior fitted only on orders completed
// before the first scored one:
//
//	                                MAE × store median   P ≥ 0.85 came true
//	sparse marketplace, before      1.00                 0.767 (mean P 0.907)
//	sparse marketplace, this model  0.92                 0.911 (mean P 0.910)
//	shared kitchen history          0.58                 0.952 (mean P 0.953)
//
// On the sparse marketplace (1,685 stores, median 8 orders a store) every
// store-size class with at least 200 confident predictions at d = 2, 5,
// 10, 15 min is within 2.4 points below prediction or above it, and the
// same holds for another seed and for train-frac 0.5; without the fleet
// prior the stores under 10 orders came true 5 to 10 points under
// prediction. A normal residual instead of the empirical one was 17 points
// off at 2 min on the kitchen history; one residual distribution instead
// of two (short and long orders) was 3.4 points off at 10 min.
//
// The price of honesty is coverage: on the sparse marketplace about 1% of
// orders get a ready_soon (P(ready within 5 min) ≥ 0.85) against 54% in
// the kitchen history, because a kitchen with few orders and a 2× spread
// is rarely sure of five minutes.
//
// # City
//
// A Prior may carry an offset per city tag (Prior.Cities, applied with
// ForCity): FitFleet takes the mean of each city's shrunken store offsets
// from their category, shrunk again with 5 pseudo-stores of 0. The agent
// applies its configured city (config city:), and its ready decisions tell
// the cloud the city with the order (wire.OrderFacts), so a fit from the
// synced stream has it. Neither development file has a city: the kitchen
// history is one chain, and the real marketplace the sparse generator
// imitates is one city-wide marketplace, so its city column would be a
// constant. On them the fit finds no city and the figures above are
// unchanged; whether cities help is a question for a fleet that spans
// several. On a synthetic fleet whose cities differ by ±0.3 in log prep
// time the fit recovers 0.49 of the 0.6 between them and a new store
// starts 1.64× slower in the slow city (TestFitFleetLearnsCityOffsets).
//
// # Cold start
//
// The own part's ridge regression starts from the prior's coefficients,
// and for the inputs the pooled prior lacks (SKU and station effort,
// distinct and open items) from Prior.Own: the median of what the fleet's
// stores with 100 or more orders learned them to be. Before, they started
// at 0, so a new store ignored its SKUs' efforts until its regression had
// learned that they matter, on top of learning the efforts themselves.
//
// Brand-new stores from a fleet prior (agent/rules
// TestColdStartWithFleetPrior: 8 kitchens of the simulator, their first
// 50 orders each through the default rules), with this model alone: 65
// ready_soon, 0.846 came true; without Own 62 and 0.839; without a fleet
// prior 35 and 0.800. Stores 4 and 5 sent 3 each, their first lunch in
// kitchens swamped at the peak (preps up to 47 and 29 min against rider
// travel of 3 to 12). From the prior alone P does not cross 0.85 for them:
// without the one-standard-error margin of the decision maps the eight
// sent 76 but only 0.776 came true; mixOrders 30 or 20, SKU efforts with 3
// or 1 pseudo-orders, and the live queue as a second index of the decision
// maps (front orders came true 55 to 60%, as their P said) did not lift
// them. Nor does queue length over throughput: on the 30 s ticks of 16
// new kitchens' first 50 orders where (k+1)/(bumps per minute in the last
// 20), k the orders ahead still open, was 0.3 to 0.8 of the rider's travel
// (3,978 ticks), 0.63 to 0.65 of the orders were ready within the travel
// (58 ticks under 0.3: 0.83).
//
// What does is the kitchen queue of the rules engine (agent/rules,
// queue.go), which sees every order live: a kitchen cooking c orders at
// once, first in first out, starts an order when fewer than c accepted
// before it are open, and from then the order's remaining time is what is
// left of its service time, far narrower than its prep. The queue learns
// from the store's own bumps, for c = 1 to 6, each SKU's service time per
// unit and the out-of-sample residuals of log service time, takes the c
// with the narrowest, and after 12 bumps gives P(ready within d | in
// service since the start under c), log-normal, its mean moved one
// standard error slower; p_ready is the higher of it and this model's,
// and the ETA is its median remaining service (ready_soon's ETA error on
// 16 new kitchens 156 and 162 s, against 208 and 222 s from this model).
// With it the eight send 135, 0.859 came true, every store 10 or more
// (stores 4 and 5: 15 and 17); on 16 other new kitchens (seeds 9100 and
// 9200) 98 at 0.867 and 106 at 0.934 (before: 58 at 0.845 and 46 at
// 0.935, six stores under five), every store 6 or more. After 300 or
// 1,000 orders of the same kitchens the 24 send 238 to 273 per 400 orders
// at 0.843 to 0.890 (this model alone: 120 to 160 at 0.825 to 0.900).
// Kitchens of 1, 8 and 12 cooks stay at 0.854 to 0.945. The queue is not
// in this package's replay, so make eval's figures do not move, and it
// is not saved: after a restart it learns again from 12 bumps. It assumes
// one first-in-first-out line per ticket station (the engine keeps a
// queue per station, up to 16). Where that is false it is over-confident:
// 8 new kitchens of two stations whose tickets all name the same one sent
// 32 ready_soon with it, 0.656 came true, against 24 and 0.875 without
// it; when the tickets name their station, 82 at 0.829 in the first 50
// orders and 189 at 0.958 after 300 (one queue for both: 33 at 0.636 and
// 9). A check of the queue's own calls that stops it where they fail was
// tried (0.677 on the first, and it cost the one-line kitchens) and is
// open. Reproduce: go test ./agent/rules -run 'TestColdStart|TestQueue' -v.
//
// Replayed through the default rules (agent/rules
// TestHistoryReplayReadySoonComesTrue: each store from a brand-new engine
// with a fleet prior fitted on the stores not replayed, 30 s ticks,
// rider travel drawn from 3 to 12 min), the queue was a net loss on both
// data files when it ran on every order: on the first 600 orders of 6
// stores of the kitchen history 2,420 ready_soon at 0.878 came true
// against 2,389 at 0.903 without it, and on 400 stores of the sparse
// marketplace 1,324 at 0.829 against 1,134 at 0.887, its 190 extra calls
// coming true about half the time. Those orders name no station, and a
// ticket without one says nothing of the line it waits in, so the queue
// now opines only on orders whose ticket names a station: the sparse
// marketplace is back at 1,134 and 0.887; the kitchen history, whose
// tickets name stations, stays at 0.878. Reproduce:
// PASSLINE_HISTORY=FILE go test ./agent/rules -run TestHistoryReplay -v.
//
// Reproduce: make eval (both files; passline-agent model eval --history
// FILE [--prior auto|none|FILE] [--drop-under 1m --drop-over 2h]).
//
// # Time
//
// Features.At is used as given: the live agent passes the accept time in
// the box's local time, and a history replay the file's own offsets.
package predict
