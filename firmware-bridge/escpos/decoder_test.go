package escpos_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/passline/passline/firmware-bridge/escpos"
)

func decodeAll(cp escpos.CodePage, b []byte) []string {
	d := escpos.NewDecoder(cp)
	out := d.Write(b)
	if t := d.Flush(); t != "" {
		out = append(out, t)
	}
	return out
}

func TestDecodeEnglishTicket(t *testing.T) {
	got := decodeAll(mustCodePage(t, "cp437"), readTestdata(t, "english.bin"))
	if len(got) != 1 {
		t.Fatalf("want one ticket (one cut), got %d: %q", len(got), got)
	}
	text := got[0]
	for _, want := range []string{"BURGER BARN\n", "Order No: UE-10442\n", "2 x Cheeseburger        £ 9.00\n", "1 x Fries  3.50\n", "3 x Café Latte"} {
		if !strings.Contains(text, want) {
			t.Errorf("ticket text lacks %q:\n%s", want, text)
		}
	}
	// Image, barcode and QR payloads are dropped, not printed as text.
	for _, junk := range []string{"\x1b", "\x1d", "UE10442", "example.com", "1P0"} {
		if strings.Contains(text, junk) {
			t.Errorf("ticket text contains command data %q:\n%q", junk, text)
		}
	}
}

func TestDecodeChineseGB18030Ticket(t *testing.T) {
	for _, page := range []string{"gb18030", "cp437"} { // FS & switches to GB18030 even on a cp437 printer
		got := decodeAll(mustCodePage(t, page), readTestdata(t, "chinese_gb18030.bin"))
		if len(got) != 1 {
			t.Fatalf("%s: want one ticket, got %q", page, got)
		}
		for _, want := range []string{"美团外卖\n", "订单号：MT2026-88123\n", "宫保鸡丁 x2   ￥56.00\n", "𠮷野家特饮 x1"} {
			if !strings.Contains(got[0], want) {
				t.Errorf("%s: text lacks %q:\n%s", page, want, got[0])
			}
		}
	}
}

// However the stream is cut into pieces (TCP reads), the text is the same.
func TestDecodeSplitAnywhere(t *testing.T) {
	for _, tc := range []struct{ file, page string }{{"english.bin", "cp437"}, {"chinese_gb18030.bin", "gb18030"}} {
		b := readTestdata(t, tc.file)
		cp := mustCodePage(t, tc.page)
		want := strings.Join(decodeAll(cp, b), "\f")
		for i := 0; i <= len(b); i++ {
			for _, j := range []int{i, i + 1, i + 3, i + 7} {
				if j > len(b) {
					continue
				}
				d := escpos.NewDecoder(cp)
				out := d.Write(b[:i])
				out = append(out, d.Write(b[i:j])...)
				out = append(out, d.Write(b[j:])...)
				if t := d.Flush(); t != "" {
					out = append(out, t)
				}
				if got := strings.Join(out, "\f"); got != want {
					t.Fatalf("%s split at %d,%d:\n got %q\nwant %q", tc.file, i, j, got, want)
				}
			}
		}
	}
}

func TestDecodeCommands(t *testing.T) {
	cp := mustCodePage(t, "cp437")
	for name, tc := range map[string]struct {
		in   string
		want []string
	}{
		"two cuts make two tickets": {"A\n\x1dV\x00B\n\x1dVA\x05", []string{"A\n", "B\n"}},
		"partial cut ESC m":         {"A\n\x1bm", []string{"A\n"}},
		"blank ticket is dropped":   {"\n\n\x1dV\x00", nil},
		"ESC t switches code page":  {"\x1bt\x10\xe9\x1bt\x00\x82\n", []string{"éé\n"}},
		"ESC @ resets code page":    {"\x1bt\x10\x1b@\x82\n", []string{"é\n"}},
		"tab stops until NUL":       {"\x1bD\x08\x10\x00X\n", []string{"X\n"}},
		"truncated at end":          {"X\n\x1d(k\x05", []string{"X\n"}},
		"huge GS 8 L payload":       {"X\n\x1d8L\xff\xff\xff\x7f" + strings.Repeat("Y", 100), []string{"X\n"}},
		"garbage controls":          {"\x00\x01\x02A\x7fB\x03\n", []string{"AB\n"}},
		"feed lines":                {"A\x1bd\x02B", []string{"A\n\nB"}},
		"DLE EOT is not text":       {"\x10\x04\x01A\n", []string{"A\n"}},
	} {
		t.Run(name, func(t *testing.T) {
			got := decodeAll(cp, []byte(tc.in))
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestLookupCodePage(t *testing.T) {
	for _, name := range []string{"CP437", "gb18030", "GBK", "gb2312", "windows-1252", "utf8", "big5"} {
		if _, err := escpos.LookupCodePage(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := escpos.LookupCodePage("ebcdic"); err == nil || !strings.Contains(err.Error(), "gb18030") {
		t.Fatalf("unknown page: %v", err)
	}
}

// FuzzDecoder: any bytes, split anywhere, decode without panicking to
// valid UTF-8, the same text as when decoded in one piece.
func FuzzDecoder(f *testing.F) {
	f.Add(readTestdata(f, "english.bin"), uint16(10), false)
	f.Add(readTestdata(f, "chinese_gb18030.bin"), uint16(33), true)
	f.Add([]byte("\x1d(k\xff\xff"), uint16(3), false)
	f.Add([]byte("\x1b*\x21\x10\x00abc\x1dV\x00"), uint16(1), true)
	f.Fuzz(func(t *testing.T, b []byte, split uint16, chinese bool) {
		page := "cp437"
		if chinese {
			page = "gb18030"
		}
		cp := mustCodePage(t, page)
		whole := decodeAll(cp, b)
		i := int(split) % (len(b) + 1)
		d := escpos.NewDecoder(cp)
		parts := append(d.Write(b[:i]), d.Write(b[i:])...)
		if t := d.Flush(); t != "" {
			parts = append(parts, t)
		}
		for _, s := range parts {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q", s)
			}
		}
		if strings.Join(whole, "\f") != strings.Join(parts, "\f") {
			t.Fatalf("split at %d changed the text:\n%q\n%q", i, whole, parts)
		}
	})
}

// A job that never ends a line or cuts is bounded: the text kept stops at
// 64 KB, and decoding stays linear.
func TestDecodeRunawayJob(t *testing.T) {
	d := escpos.NewDecoder(mustCodePage(t, "cp437"))
	chunk := []byte(strings.Repeat("A", 1<<16))
	for i := 0; i < 64; i++ { // 4 MB without a newline
		d.Write(chunk)
	}
	if got := len(d.Flush()); got > 64<<10 || got < 60<<10 {
		t.Fatalf("kept %d bytes of a 4 MB line", got)
	}
}
