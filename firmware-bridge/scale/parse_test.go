package scale_test

import (
	"errors"
	"math"
	"testing"

	"github.com/passline/passline/firmware-bridge/scale"
)

func toledo(a, b, c byte, weight string) []byte {
	return append([]byte{0x02, a, b, c}, []byte(weight+"000000")...)
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line  string
		want  scale.Reading
		noise bool
	}{
		{line: "ST,GS,+  1.234kg", want: scale.Reading{Grams: 1234, StatusKnown: true, Stable: true}},
		{line: "US,NT,-0000.50 kg", want: scale.Reading{Grams: -500, StatusKnown: true, Net: true}},
		{line: "ST,GS,  0.845,kg", want: scale.Reading{Grams: 845, StatusKnown: true, Stable: true}},
		{line: "OL,GS,+99.999kg", want: scale.Reading{Grams: 99999, StatusKnown: true, Overload: true}},
		{line: "ST,NT,+  250 g", want: scale.Reading{Grams: 250, StatusKnown: true, Stable: true, Net: true}},
		{line: "   1.500 kg", want: scale.Reading{Grams: 1500}},
		{line: "W: 2.0 lb", want: scale.Reading{Grams: 907.18474}},
		{line: string(toledo(0x25, 0x30, 0x20, "001234")), want: scale.Reading{Grams: 1234, StatusKnown: true, Stable: true}},           // kg, XXX.XXX
		{line: string(toledo(0x25, 0x38, 0x20, "001234")), want: scale.Reading{Grams: 1234, StatusKnown: true}},                         // in motion
		{line: string(toledo(0x22, 0x21, 0x21, "000845")), want: scale.Reading{Grams: 845, StatusKnown: true, Stable: true, Net: true}}, // grams, net
		{line: "ST,GS,+  1.2", want: scale.Reading{Grams: 1200, StatusKnown: true, Stable: true}},                                       // no unit: kg
		{line: "ST,GS,+  1.2.3kg", noise: true},
		{line: "kg", noise: true},
		{line: ",GS,+ 1.234kg", noise: true},
		{line: "\x02\x24\x30", noise: true},
		{line: "hello world", noise: true},
	} {
		got, err := scale.ParseLine([]byte(tc.line))
		if tc.noise {
			if !errors.Is(err, scale.ErrNoWeight) {
				t.Errorf("%q: want ErrNoWeight, got %+v %v", tc.line, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if math.Abs(got.Grams-tc.want.Grams) > 1e-6 || got.StatusKnown != tc.want.StatusKnown || got.Stable != tc.want.Stable || got.Net != tc.want.Net || got.Overload != tc.want.Overload {
			t.Errorf("%q: got %+v want %+v", tc.line, got, tc.want)
		}
	}
}

func TestFramerSplitsAndBoundsLines(t *testing.T) {
	var f scale.Framer
	var lines []string
	for _, chunk := range []string{"1.23", "4kg\r\nST,GS,+ 0.", "5kg\n\n", string(make([]byte, 200)), "\r\x02\x24", "\x30\x20001234000000\r"} {
		for _, l := range f.Write([]byte(chunk)) {
			lines = append(lines, string(l))
		}
	}
	want := []string{"1.234kg", "ST,GS,+ 0.5kg", "\x02\x24\x30\x20001234000000"}
	if len(lines) != len(want) {
		t.Fatalf("lines %q want %q", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("line %d %q want %q", i, lines[i], want[i])
		}
	}
}

func TestDetectorPublishesOncePerStableChange(t *testing.T) {
	d := scale.NewDetector(3, 2, 20)
	st := func(g float64) scale.Reading { return scale.Reading{Grams: g, StatusKnown: true, Stable: true} }
	us := func(g float64) scale.Reading { return scale.Reading{Grams: g, StatusKnown: true} }
	var published []float64
	for _, r := range []scale.Reading{
		st(0), st(0), st(0), // empty scale: nothing
		us(300), us(820), us(850), // bag going on
		st(845), st(846), st(845), // stable: publish 845
		st(845), st(846), st(845), st(844), // still the same bag: nothing
		us(1200), st(1250), st(1251), st(1250), // a second bag added on top: publish 1250
		st(1250), {Grams: 99999, StatusKnown: true, Overload: true}, st(1250),
		st(0), st(1), st(0), // emptied
		st(845), st(845), st(846), // the same bag again: publish again
		{Grams: 500}, {Grams: 520}, {Grams: 501}, // no status, not within tolerance: nothing
	} {
		if g, ok := d.Add(r); ok {
			published = append(published, g)
		}
	}
	want := []float64{845, 1250, 845}
	if len(published) != len(want) {
		t.Fatalf("published %v want %v", published, want)
	}
	for i := range want {
		if published[i] != want[i] {
			t.Fatalf("published %v want %v", published, want)
		}
	}
}

// FuzzParseLine: any line parses or is noise, never panics, and a parsed
// weight is a finite number.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"ST,GS,+  1.234kg", "US,NT,-0000.50 kg", "   1.500 kg", "ST,GS,  0.845,kg", string(toledo(0x24, 0x30, 0x20, "001234")), "\x02\xff\xff\xff99999999999999", "OL,GS,+99999999999999999999kg"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := scale.ParseLine(line)
		if err != nil {
			if !errors.Is(err, scale.ErrNoWeight) {
				t.Fatalf("error %v is not ErrNoWeight", err)
			}
			return
		}
		if math.IsNaN(r.Grams) || math.IsInf(r.Grams, 0) {
			t.Fatalf("weight %v from %q", r.Grams, line)
		}
		var fr scale.Framer
		_ = fr.Write(line)
	})
}
