package sim

import (
	"fmt"
	"time"

	"github.com/passline/passline/wire"
)

// Station is a place in the kitchen where dishes are cooked, with the
// number of cooks that work there in parallel.
type Station struct {
	Name  string `yaml:"name"`
	Cooks int    `yaml:"cooks"`
}

// Dish is one menu item.
type Dish struct {
	SKU     string        `yaml:"sku"`
	Name    string        `yaml:"name"`
	Station string        `yaml:"station"`
	Prep    time.Duration `yaml:"prep"`    // median cooking time of one portion, kitchen time
	Grams   float64       `yaml:"grams"`   // packed weight of one portion
	Popular float64       `yaml:"popular"` // relative order frequency; 0 means 1
}

// Config describes a simulated kitchen. Durations and rates are in kitchen
// time; Speed maps kitchen time onto the clock passed to Step.
type Config struct {
	Store     string `yaml:"-"`
	PrinterID string `yaml:"printer_id"`
	BumpBarID string `yaml:"bumpbar_id"`
	ScaleID   string `yaml:"scale_id"`
	// IDPrefix starts every order id; give each run its own prefix so a
	// restarted simulation does not reuse order ids.
	IDPrefix string `yaml:"-"`

	// OrdersPerMinute is the mean arrival rate in kitchen time, before
	// the lunch and dinner peaks are applied.
	OrdersPerMinute float64 `yaml:"orders_per_minute"`
	// Speed is kitchen seconds per clock second: 60 makes a 10-minute prep
	// take 10 s. Events are stamped with clock time, never kitchen time.
	Speed float64 `yaml:"speed"`
	// Peaks multiplies the arrival rate around 12:30 and 19:00 kitchen time.
	Peaks bool `yaml:"peaks"`
	// RemakeRate is the share of orders one of whose dishes is cooked again.
	RemakeRate float64 `yaml:"remake_rate"`
	// BumpByStation makes bump keys name the order's main station instead
	// of the order id, as a station bump bar without a KDS does.
	BumpByStation bool `yaml:"bump_by_station"`
	// StartKeys publishes a start key when the first dish of an order is
	// picked up by a cook.
	StartKeys bool `yaml:"start_keys"`
	// BumpDelay is the shortest and longest time from an order's last
	// dish to its bump (drawn uniformly), kitchen time: plating and
	// checking. Zero means 5 to 30 s.
	BumpDelay [2]time.Duration `yaml:"bump_delay"`
	// MaxOpenOrders turns arrivals away while this many orders are open,
	// so an overloaded configuration cannot grow without bound.
	MaxOpenOrders int `yaml:"max_open_orders"`

	Stations []Station `yaml:"stations"`
	Menu     []Dish    `yaml:"menu"`
	Channels []string  `yaml:"channels"`
}

// DefaultConfig is a mid-size delivery kitchen: ten cooks over five
// stations, eleven dishes, 0.3 orders a minute off-peak (about 0.75 at the
// lunch peak), real time, 2% remakes.
func DefaultConfig() Config {
	return Config{
		PrinterID:       "printer-1",
		BumpBarID:       "bumpbar-1",
		ScaleID:         "scale-1",
		OrdersPerMinute: 0.3,
		Speed:           1,
		Peaks:           true,
		RemakeRate:      0.02,
		MaxOpenOrders:   200,
		Stations: []Station{
			{Name: "wok", Cooks: 4}, {Name: "grill", Cooks: 2}, {Name: "fryer", Cooks: 2},
			{Name: "cold", Cooks: 1}, {Name: "drinks", Cooks: 1},
		},
		Menu: []Dish{
			{SKU: "KP01", Name: "Kung pao chicken", Station: "wok", Prep: 7 * time.Minute, Grams: 450, Popular: 3},
			{SKU: "FR02", Name: "Egg fried rice", Station: "wok", Prep: 5 * time.Minute, Grams: 400, Popular: 3},
			{SKU: "BN03", Name: "Beef noodles", Station: "wok", Prep: 6 * time.Minute, Grams: 500, Popular: 2},
			{SKU: "BG10", Name: "Burger", Station: "grill", Prep: 6 * time.Minute, Grams: 300, Popular: 2},
			{SKU: "SK11", Name: "Chicken skewers", Station: "grill", Prep: 8 * time.Minute, Grams: 250, Popular: 1},
			{SKU: "FF20", Name: "Fries", Station: "fryer", Prep: 4 * time.Minute, Grams: 150, Popular: 2},
			{SKU: "FC21", Name: "Fried chicken", Station: "fryer", Prep: 9 * time.Minute, Grams: 350, Popular: 2},
			{SKU: "SL30", Name: "Garden salad", Station: "cold", Prep: 3 * time.Minute, Grams: 250, Popular: 1},
			{SKU: "CU31", Name: "Smashed cucumber", Station: "cold", Prep: 2 * time.Minute, Grams: 200, Popular: 1},
			{SKU: "MT40", Name: "Milk tea", Station: "drinks", Prep: 2 * time.Minute, Grams: 500, Popular: 2},
			{SKU: "LM41", Name: "Lemonade", Station: "drinks", Prep: time.Minute, Grams: 400, Popular: 1},
		},
		Channels: []string{"meituan", "eleme", "ubereats"},
	}
}

// Validate checks the configuration; field names are those of the YAML
// under the bridge's sim section.
func (c Config) Validate() error {
	if !wire.ValidToken(c.Store) {
		return fmt.Errorf("store: %q is not a store id (1-64 of A-Z a-z 0-9 _ -)", c.Store)
	}
	for name, id := range map[string]string{"printer_id": c.PrinterID, "bumpbar_id": c.BumpBarID, "scale_id": c.ScaleID} {
		if !wire.ValidToken(id) {
			return fmt.Errorf("%s: %q is not a device id (1-64 of A-Z a-z 0-9 _ -)", name, id)
		}
	}
	if c.IDPrefix != "" && (!wire.ValidToken(c.IDPrefix) || len(c.IDPrefix) > 40) {
		return fmt.Errorf("id prefix: %q must be a token of at most 40 characters", c.IDPrefix)
	}
	switch {
	case !(c.OrdersPerMinute > 0 && c.OrdersPerMinute <= 100):
		return fmt.Errorf("orders_per_minute: %v is not in (0, 100]", c.OrdersPerMinute)
	case !(c.Speed > 0 && c.Speed <= 10000):
		return fmt.Errorf("speed: %v is not in (0, 10000]", c.Speed)
	case !(c.RemakeRate >= 0 && c.RemakeRate <= 1):
		return fmt.Errorf("remake_rate: %v is not in [0, 1]", c.RemakeRate)
	case c.BumpDelay[0] < 0 || c.BumpDelay[1] < c.BumpDelay[0]:
		return fmt.Errorf("bump_delay: %v must be [shortest, longest], 0 <= shortest <= longest", c.BumpDelay)
	case c.MaxOpenOrders < 1:
		return fmt.Errorf("max_open_orders: must be at least 1")
	case len(c.Stations) == 0:
		return fmt.Errorf("stations: at least one is needed")
	case len(c.Menu) == 0:
		return fmt.Errorf("menu: at least one dish is needed")
	}
	stations := map[string]bool{}
	for i, s := range c.Stations {
		if s.Name == "" || s.Cooks < 1 || stations[s.Name] {
			return fmt.Errorf("stations[%d]: needs a unique name and at least one cook", i)
		}
		stations[s.Name] = true
	}
	for i, d := range c.Menu {
		switch {
		case d.SKU == "" || len(d.SKU) > wire.MaxTextLen || len(d.Name) > wire.MaxTextLen:
			return fmt.Errorf("menu[%d].sku: must be 1-%d characters", i, wire.MaxTextLen)
		case !stations[d.Station]:
			return fmt.Errorf("menu[%d].station: %q is not one of the stations", i, d.Station)
		case d.Prep <= 0:
			return fmt.Errorf("menu[%d].prep: must be positive", i)
		case d.Grams < 0 || d.Popular < 0:
			return fmt.Errorf("menu[%d]: grams and popular must not be negative", i)
		}
	}
	for i, ch := range c.Channels {
		if ch == "" || len(ch) > wire.MaxTextLen {
			return fmt.Errorf("channels[%d]: must be 1-%d characters", i, wire.MaxTextLen)
		}
	}
	return nil
}
