package wire

import (
	"fmt"
	"strings"
)

// Topic and subject names. A store, device id or rider id is a token: 1 to
// 64 characters from [A-Za-z0-9_-]. Tokens never contain MQTT or NATS
// separators or wildcards, so a name built from them cannot escape its
// store's namespace.
const (
	// TopicRoot is the first two levels of every device topic.
	TopicRoot = "passline/v1"
	// StreamDecisions is the JetStream stream that holds decisions.
	StreamDecisions = "DECISIONS"
	// SubjectDecisions matches every store's decisions.
	SubjectDecisions = "passline.*.decision"
	// SubjectAssignments matches every store's rider assignments.
	SubjectAssignments = "passline.*.assign"
	// BucketConfig is the KV bucket of store configs, keyed by store.
	BucketConfig = "PASSLINE_CONFIG"
	// BucketConfigStatus is the KV bucket where each agent reports, under
	// its store's key, whether it applied its config and why not.
	BucketConfigStatus = "PASSLINE_CONFIG_STATUS"
	// BucketModelPrior is the KV bucket of fleet priors of the prep-time
	// model, keyed by store category ("default" for stores of no known
	// category); the value is a predict.Prior as JSON. Every agent watches
	// its category's key.
	BucketModelPrior = "PASSLINE_MODEL_PRIOR"
	// HeaderMsgID is JetStream's de-duplication header; Passline sets it to
	// the decision id.
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderTraceparent is the W3C Trace Context header on decision and
	// rider messages (NATS) and on webhook and platform calls (HTTP).
	HeaderTraceparent = "traceparent"
)

// MaxTokenLen is the longest store, device id or rider id.
const MaxTokenLen = 64

// ValidToken reports whether s may be used as one level of a topic or
// subject: 1..MaxTokenLen characters from [A-Za-z0-9_-].
func ValidToken(s string) bool {
	if len(s) == 0 || len(s) > MaxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func checkToken(field, s string) error {
	if !ValidToken(s) {
		return invalid(field, "%q is not a token (1-%d characters of A-Z a-z 0-9 _ -)", s, MaxTokenLen)
	}
	return nil
}

// Device is the kind of device in a device topic.
type Device string

// Devices that publish events.
const (
	DevicePrinter Device = "printer" // ESC/POS print proxy: tickets
	DeviceBumpBar Device = "bumpbar" // USB, GPIO or KDS bump bar: keys
	DeviceScale   Device = "scale"   // packing scale: weights
	DevicePOS     Device = "pos"     // POS or KDS speaking MQTT: order status
	DeviceScanner Device = "scanner" // USB/HID barcode scanner: scanned ticket codes
	DeviceBridge  Device = "bridge"  // the firmware-bridge itself: health
)

// Valid reports whether d is a known device kind.
func (d Device) Valid() bool {
	switch d {
	case DevicePrinter, DeviceBumpBar, DeviceScale, DevicePOS, DeviceScanner, DeviceBridge:
		return true
	}
	return false
}

// Topic is a parsed device topic:
// passline/v1/{store}/{device}/{device_id}/{event}.
type Topic struct {
	Store    string
	Device   Device
	DeviceID string
	Event    EventKind
}

// String builds the MQTT topic.
func (t Topic) String() string {
	return fmt.Sprintf("%s/%s/%s/%s/%s", TopicRoot, t.Store, t.Device, t.DeviceID, t.Event)
}

// Validate checks every level of the topic.
func (t Topic) Validate() error {
	if err := checkToken("store", t.Store); err != nil {
		return err
	}
	if !t.Device.Valid() {
		return invalid("device", "unknown device %q", t.Device)
	}
	if err := checkToken("device_id", t.DeviceID); err != nil {
		return err
	}
	if !t.Event.Valid() {
		return invalid("event", "unknown event %q", t.Event)
	}
	return nil
}

// ParseTopic parses a device topic. The error has Reason ReasonTopic.
func ParseTopic(s string) (Topic, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 6 || parts[0]+"/"+parts[1] != TopicRoot {
		return Topic{}, &Error{Reason: ReasonTopic, Msg: fmt.Sprintf("topic %q is not %s/{store}/{device}/{device_id}/{event}", s, TopicRoot)}
	}
	t := Topic{Store: parts[2], Device: Device(parts[3]), DeviceID: parts[4], Event: EventKind(parts[5])}
	if err := t.Validate(); err != nil {
		e := err.(*Error)
		e.Reason = ReasonTopic
		return Topic{}, e
	}
	return t, nil
}

// StoreFilter is the MQTT subscription filter for every device event of a
// store: passline/v1/{store}/+/+/+.
func StoreFilter(store string) string { return TopicRoot + "/" + store + "/+/+/+" }

// CommandTopic is where the agent (or anyone) sends a command to a bridge
// output, such as a light or buzzer: passline/v1/{store}/cmd/{device_id}/{output}.
func CommandTopic(store, deviceID, output string) string {
	return fmt.Sprintf("%s/%s/cmd/%s/%s", TopicRoot, store, deviceID, output)
}

// StatusTopic is where a device or the bridge publishes online/offline
// (retained; the bridge also sets it as its MQTT last will).
func StatusTopic(store string, device Device, deviceID string) string {
	return Topic{Store: store, Device: device, DeviceID: deviceID, Event: EventStatus}.String()
}

// DecisionSubject is the NATS subject of a store's decisions:
// passline.{store}.decision.
func DecisionSubject(store string) string { return "passline." + store + ".decision" }

// AssignSubject is the NATS subject on which the platform assigns riders to
// a store's orders: passline.{store}.assign.
func AssignSubject(store string) string { return "passline." + store + ".assign" }

// RiderSubject is the NATS subject of one notification to a rider:
// passline.rider.{rider}.notify.{key}, where key is a token naming the
// notification (the relay derives it from the decision id). The key is in
// the subject because the relay's rider outbox republishes each stored
// notification from passline.outbox.{p}.{rider}.{key}, and nats-server
// before 2.10 refuses a republish that drops a wildcard token of the
// source. Subscribe with RiderFilter or RiderWildcard.
func RiderSubject(rider, key string) string { return "passline.rider." + rider + ".notify." + key }

// RiderFilter matches every notification to rider:
// passline.rider.{rider}.notify.*.
func RiderFilter(rider string) string { return "passline.rider." + rider + ".notify.*" }

// StoreInboxPrefix is the reply-subject prefix a store's NATS connection
// must use (nats.CustomInboxPrefix): a store's credentials may receive
// replies, JetStream acks included, only below it.
func StoreInboxPrefix(store string) string { return "_PASSLINE_INBOX." + store }

// RiderWildcard matches every rider's notifications.
const RiderWildcard = "passline.rider.*.notify.*"

// ParseDecisionSubject returns the store of a decision subject.
func ParseDecisionSubject(s string) (store string, err error) {
	return parseSubject(s, "decision")
}

// ParseAssignSubject returns the store of an assignment subject.
func ParseAssignSubject(s string) (store string, err error) {
	return parseSubject(s, "assign")
}

func parseSubject(s, last string) (string, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != "passline" || parts[2] != last || !ValidToken(parts[1]) {
		return "", &Error{Reason: ReasonTopic, Msg: fmt.Sprintf("subject %q is not passline.{store}.%s", s, last)}
	}
	return parts[1], nil
}

// ParseRiderSubject returns the rider of a rider notification subject.
func ParseRiderSubject(s string) (rider string, err error) {
	parts := strings.Split(s, ".")
	if len(parts) != 5 || parts[0] != "passline" || parts[1] != "rider" || parts[3] != "notify" || !ValidToken(parts[2]) || !ValidToken(parts[4]) {
		return "", &Error{Reason: ReasonTopic, Msg: fmt.Sprintf("subject %q is not passline.rider.{rider}.notify.{key}", s)}
	}
	return parts[2], nil
}
