package evdev

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	bridge "github.com/passline/passline/firmware-bridge"
)

// KeyMap maps Linux key codes to bump bar actions.
type KeyMap map[uint16]bridge.Action

// keyCodes are the Linux key codes (linux/input-event-codes.h) a bump bar
// usually sends: the digit row, the keypad and a few named keys.
var keyCodes = map[string]uint16{
	"KEY_ESC": 1, "KEY_1": 2, "KEY_2": 3, "KEY_3": 4, "KEY_4": 5, "KEY_5": 6, "KEY_6": 7,
	"KEY_7": 8, "KEY_8": 9, "KEY_9": 10, "KEY_0": 11, "KEY_BACKSPACE": 14, "KEY_TAB": 15,
	"KEY_ENTER": 28, "KEY_SPACE": 57, "KEY_F1": 59, "KEY_F2": 60, "KEY_F3": 61, "KEY_F4": 62,
	"KEY_F5": 63, "KEY_F6": 64, "KEY_F7": 65, "KEY_F8": 66, "KEY_F9": 67, "KEY_F10": 68,
	"KEY_KP7": 71, "KEY_KP8": 72, "KEY_KP9": 73, "KEY_KP4": 75, "KEY_KP5": 76, "KEY_KP6": 77,
	"KEY_KP1": 79, "KEY_KP2": 80, "KEY_KP3": 81, "KEY_KP0": 82, "KEY_KPENTER": 96,
	"KEY_A": 30, "KEY_B": 48, "KEY_C": 46, "KEY_D": 32, "KEY_E": 18, "KEY_F": 33,
	"KEY_G": 34, "KEY_H": 35, "KEY_I": 23, "KEY_J": 36,
}

// Presets are built-in key maps. "bump10" is the common 10-key bump bar
// that sends the digit row (and keypad): 1-7 select the order at that
// position, 8 starts, 9 recalls, 0 bumps. Check what your bar sends with
// evtest and override single keys in config.
var Presets = map[string]map[string]string{
	"bump10": {
		"KEY_1": "select:1", "KEY_2": "select:2", "KEY_3": "select:3", "KEY_4": "select:4",
		"KEY_5": "select:5", "KEY_6": "select:6", "KEY_7": "select:7",
		"KEY_8": "start", "KEY_9": "recall", "KEY_0": "bump",
		"KEY_KP1": "select:1", "KEY_KP2": "select:2", "KEY_KP3": "select:3", "KEY_KP4": "select:4",
		"KEY_KP5": "select:5", "KEY_KP6": "select:6", "KEY_KP7": "select:7",
		"KEY_KP8": "start", "KEY_KP9": "recall", "KEY_KP0": "bump", "KEY_ENTER": "bump", "KEY_KPENTER": "bump",
	},
	"none": {},
}

// NewKeyMap builds a key map from a preset ("" means none) and overrides
// keyed by key name (KEY_1) or decimal code ("2"). An empty action in the
// overrides removes the key.
func NewKeyMap(preset string, keys map[string]string) (KeyMap, error) {
	base, ok := Presets[preset]
	if preset != "" && !ok {
		return nil, fmt.Errorf("preset %q is unknown (known: %s)", preset, presetNames())
	}
	m := KeyMap{}
	add := func(src map[string]string) error {
		for name, spec := range src {
			code, err := parseKey(name)
			if err != nil {
				return err
			}
			if spec == "" {
				delete(m, code)
				continue
			}
			a, err := bridge.ParseAction(spec)
			if err != nil {
				return fmt.Errorf("key %s: %w", name, err)
			}
			m[code] = a
		}
		return nil
	}
	if err := add(base); err != nil {
		return nil, err
	}
	if err := add(keys); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("no key is mapped: set a preset or keys")
	}
	return m, nil
}

func parseKey(name string) (uint16, error) {
	if c, ok := keyCodes[strings.ToUpper(name)]; ok {
		return c, nil
	}
	n, err := strconv.ParseUint(name, 10, 16)
	if err != nil || n == 0 || n > 0x2ff {
		return 0, fmt.Errorf("key %q is neither a known KEY_ name nor a key code 1-767", name)
	}
	return uint16(n), nil
}

func presetNames() string {
	var names []string
	for k := range Presets {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
