// Package evdev reads USB HID keyboards of the kitchen through Linux input
// events (/dev/input/...): a bump bar, whose key presses are mapped to bump
// bar actions with a KeyMap and published as key events, and a barcode
// scanner, whose typed codes (Scanner) are published as scan events. Both
// are plain USB keyboards to Linux; the driver grabs the device
// (EVIOCGRAB) so its keys do not also type into a console.
package evdev

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// Input event types and key values (linux/input-event-codes.h).
const (
	evKey    = 1
	keyPress = 1
)

// NativeRecordSize is the size of struct input_event on this platform: 24
// bytes on 64-bit (a 16-byte timeval), 16 on 32-bit arm.
const NativeRecordSize = int(2*unsafe.Sizeof(uintptr(0))) + 8

// InputEvent is one decoded struct input_event (time omitted).
type InputEvent struct {
	Type  uint16
	Code  uint16
	Value int32
}

// Decoder cuts a byte stream into input_event records of a fixed size (24
// or 16), little-endian as on every platform the bridge ships for. A
// record split across reads is completed by the next one.
type Decoder struct {
	size int
	buf  []byte
}

// NewDecoder returns a decoder for records of size bytes (24 or 16).
func NewDecoder(size int) (*Decoder, error) {
	if size != 24 && size != 16 {
		return nil, fmt.Errorf("input_event size %d: want 24 (64-bit) or 16 (32-bit)", size)
	}
	return &Decoder{size: size}, nil
}

// Write consumes bytes and returns the complete records in them.
func (d *Decoder) Write(p []byte) []InputEvent {
	d.buf = append(d.buf, p...)
	var out []InputEvent
	for len(d.buf) >= d.size {
		r := d.buf[d.size-8 : d.size]
		out = append(out, InputEvent{
			Type:  binary.LittleEndian.Uint16(r[0:2]),
			Code:  binary.LittleEndian.Uint16(r[2:4]),
			Value: int32(binary.LittleEndian.Uint32(r[4:8])),
		})
		d.buf = d.buf[d.size:]
	}
	if len(d.buf) == 0 {
		d.buf = nil
	}
	return out
}

// Pressed reports whether the event is a key going down (not a release,
// not auto-repeat: holding a bump key must bump once).
func (e InputEvent) Pressed() bool { return e.Type == evKey && e.Value == keyPress }

// Encode builds a record as the kernel writes it, for tests and tools.
func Encode(size int, sec, usec int64, typ, code uint16, value int32) []byte {
	b := make([]byte, size)
	half := (size - 8) / 2
	if half == 8 {
		binary.LittleEndian.PutUint64(b[0:8], uint64(sec))
		binary.LittleEndian.PutUint64(b[8:16], uint64(usec))
	} else {
		binary.LittleEndian.PutUint32(b[0:4], uint32(sec))
		binary.LittleEndian.PutUint32(b[4:8], uint32(usec))
	}
	o := size - 8
	binary.LittleEndian.PutUint16(b[o:], typ)
	binary.LittleEndian.PutUint16(b[o+2:], code)
	binary.LittleEndian.PutUint32(b[o+4:], uint32(value))
	return b
}
