package rules

// Env is what a rule's condition sees. Every duration is a number of
// seconds (float): write `5*60` or `300` for five minutes. Functions read
// the order's live state, so a decision made by an earlier rule in the same
// evaluation is already visible to later ones through sent, slip and
// eta_moved.
type Env struct {
	Order OrderEnv `expr:"order"`
	Event EventEnv `expr:"event"`

	// Status is the order's status now; From the status before the event
	// ("" on a timer tick or for an order the event created).
	Status string `expr:"status"`
	From   string `expr:"from"`
	// Transition is the status a real kitchen event just moved the order
	// to, and "" when nothing moved (a timer tick, a repeated event).
	Transition string `expr:"transition"`
	// Started is true when a real kitchen event just started cooking the
	// order (the start key, or the ticket of a store that starts
	// automatically); decisions made then carry wire.FlagCookStart.
	Started bool `expr:"started"`
	// Tick is true on a timer re-evaluation (no event).
	Tick bool `expr:"tick"`
	// Cooking is true while a ticketed order is accepted or started: the
	// only time the model's decisions make sense.
	Cooking bool `expr:"cooking"`

	// Elapsed is seconds since the order was accepted.
	Elapsed float64 `expr:"elapsed"`
	// ETA is the median remaining seconds until ready, given the order has
	// already cooked for Elapsed: of its service when the kitchen queue has
	// an opinion on it (queue.go), else the model's; 0 once it is done.
	ETA float64 `expr:"eta"`

	// Parameters, in seconds (confidence_threshold is a probability).
	// LeadTime is the rider's travel time when the assignment gave one,
	// else the lead_time parameter.
	PredictionWindow    float64 `expr:"prediction_window"`
	ConfidenceThreshold float64 `expr:"confidence_threshold"`
	RetryInterval       float64 `expr:"retry_interval"`
	LeadTime            float64 `expr:"lead_time"`

	// PReady(d) is P(ready within d seconds | cooked Elapsed so far): the
	// model's, or the kitchen queue's when that is higher (an order in
	// service in a kitchen whose parallelism and service times the queue
	// has learned; queue.go).
	PReady func(d float64) float64 `expr:"p_ready"`
	// Sent(kind) reports whether a decision of kind was already made.
	Sent func(kind string) bool `expr:"sent"`
	// SinceSent(kind) is seconds since the last decision of kind, or 1e9.
	SinceSent func(kind string) float64 `expr:"since_sent"`
	// Slip is how many seconds the predicted ready time is past the ready
	// time of the last ready_soon or delayed decision (what a rider acted
	// on); 0 when neither was sent.
	Slip func() float64 `expr:"slip"`
	// ETAMoved is how many seconds the predicted ready time differs from
	// the last one told by any decision (eta, ready_soon, delayed), or 1e9
	// when none was told.
	ETAMoved func() float64 `expr:"eta_moved"`
}

// OrderEnv is the order as rules see it.
type OrderEnv struct {
	ID         string `expr:"id"`
	ShortCode  string `expr:"short_code"`
	Channel    string `expr:"channel"`
	Station    string `expr:"station"`
	Items      int    `expr:"items"`
	Distinct   int    `expr:"distinct"`
	TicketSeen bool   `expr:"ticket_seen"`
	OpenOrders int    `expr:"open_orders"` // kitchen load when accepted
	OpenItems  int    `expr:"open_items"`
	// Promised is seconds from now until what the platform promised the
	// customer (negative when past); 0 when unknown.
	Promised float64 `expr:"promised"`
}

// EventEnv is the kitchen event that triggered the evaluation. On a timer
// tick every field is empty.
type EventEnv struct {
	ID     string `expr:"id"`
	Kind   string `expr:"kind"`   // ticket, key, weight, pos_status, scan
	Action string `expr:"action"` // bump bar action: bump, start, recall, mark, select
	Status string `expr:"status"` // pos_status: the status the POS reported
	Device string `expr:"device"` // device id
}
