package escpos

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// CodePage is a text encoding a printer can be set to. Multibyte pages
// (GB18030, GBK, Big5, Shift_JIS, UTF-8) are what Chinese and Japanese
// printers use in their "Kanji mode" (FS &).
type CodePage struct {
	Name      string
	Encoding  encoding.Encoding
	Multibyte bool
}

var codePages = map[string]CodePage{
	"cp437":     {"cp437", charmap.CodePage437, false},
	"cp850":     {"cp850", charmap.CodePage850, false},
	"cp852":     {"cp852", charmap.CodePage852, false},
	"cp858":     {"cp858", charmap.CodePage858, false},
	"cp860":     {"cp860", charmap.CodePage860, false},
	"cp863":     {"cp863", charmap.CodePage863, false},
	"cp865":     {"cp865", charmap.CodePage865, false},
	"cp866":     {"cp866", charmap.CodePage866, false},
	"cp1252":    {"cp1252", charmap.Windows1252, false},
	"latin1":    {"latin1", charmap.ISO8859_1, false},
	"gb18030":   {"gb18030", simplifiedchinese.GB18030, true},
	"gbk":       {"gbk", simplifiedchinese.GBK, true},
	"big5":      {"big5", traditionalchinese.Big5, true},
	"shift_jis": {"shift_jis", japanese.ShiftJIS, true},
	"utf-8":     {"utf-8", unicode.UTF8, true},
}

// escT maps the argument of ESC t n (select character code table) to the
// pages of the Epson table we support. Other values leave the page as is.
var escT = map[byte]string{
	0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865",
	16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858",
}

// LookupCodePage returns the code page with the given name (case does not
// matter; "windows-1252", "utf8" and "gb2312" are accepted as aliases).
func LookupCodePage(name string) (CodePage, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "windows-1252":
		n = "cp1252"
	case "utf8":
		n = "utf-8"
	case "gb2312":
		n = "gbk"
	case "iso-8859-1":
		n = "latin1"
	}
	cp, ok := codePages[n]
	if !ok {
		names := make([]string, 0, len(codePages))
		for k := range codePages {
			names = append(names, k)
		}
		sort.Strings(names)
		return CodePage{}, fmt.Errorf("unknown code page %q (known: %s)", name, strings.Join(names, ", "))
	}
	return cp, nil
}
