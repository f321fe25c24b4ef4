package escpos

// Pattern says how to read one POS's tickets. Every expression is a Go
// regular expression (RE2) applied to the decoded ticket text; the first
// Pattern whose Match matches a ticket is used.
type Pattern struct {
	Name string `yaml:"name"`
	// Match selects this pattern for a ticket; empty matches every ticket.
	Match string `yaml:"match"`
	// Channel is the delivery platform, fixed for tickets this pattern matches.
	Channel string `yaml:"channel"`
	// OrderID's first group is the order id. Characters outside
	// [A-Za-z0-9_-] are replaced by '-'. Required.
	OrderID string `yaml:"order_id"`
	// ShortCode's first group is the pickup number printed for the rider.
	ShortCode string `yaml:"short_code"`
	// Item matches one item line; named groups "name" and "qty" (and
	// optionally "sku") are used. Every match is one item.
	Item string `yaml:"item"`
	// PromisedAt's first group is the promised time, parsed with TimeLayout
	// in the bridge's time zone; a time of day alone means the next such
	// time within 12 hours of the ticket.
	PromisedAt string `yaml:"promised_at"`
	TimeLayout string `yaml:"time_layout"`
	// SKUs maps item names to SKUs; a name missing here is its own SKU.
	SKUs map[string]string `yaml:"skus"`
	// Stations maps SKUs to kitchen stations.
	Stations map[string]string `yaml:"stations"`
	// ScanCode overrides the printer's escpos.scan_code for tickets this
	// pattern reads, when the printer's is on: "off" where the template
	// has no room for a code (or already prints one the scanner reads),
	// "qr" or "code128"; empty means the printer's setting.
	ScanCode string `yaml:"scan_code"`
}
