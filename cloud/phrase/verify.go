package phrase

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/sms"
	"github.com/passline/passline/wire"
)

// Reason says why a generated text was refused; stable metric label.
type Reason string

// Verification failure reasons.
const (
	ReasonEmpty        Reason = "empty"           // nothing left after trimming
	ReasonFormat       Reason = "format"          // several lines, control characters, markup
	ReasonTooLong      Reason = "too_long"        // over MaxChars or the SMS segment limit
	ReasonDenyList     Reason = "deny_list"       // contains a denied word
	ReasonMissingSlot  Reason = "missing_slot"    // order code, minutes or shelf not there exactly
	ReasonInventedNum  Reason = "invented_number" // a number the facts do not have
	ReasonInventedTime Reason = "invented_time"   // a clock time, day or duration word
	ReasonInventedCode Reason = "invented_code"   // another order code
	ReasonLanguage     Reason = "language"        // not the locale's language
	ReasonKind         Reason = "kind_mismatch"   // says cancelled when it is not, or does not when it is
)

// VerifyError is a refused text.
type VerifyError struct {
	Reason Reason
	Detail string
}

func (e *VerifyError) Error() string { return fmt.Sprintf("%s: %s", e.Reason, e.Detail) }

func refuse(r Reason, format string, args ...any) error {
	return &VerifyError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Limits bound a generated text.
type Limits struct {
	MaxChars       int      // characters (runes); 0 means no limit
	MaxSMSSegments int      // SMS segments (sms.Measure); 0 means no limit
	DenyList       []string // case-insensitive substrings
}

// DefaultDenyList is always refused: links, contact details, promises the
// relay cannot keep, and model self-talk.
var DefaultDenyList = []string{"http", "www.", "@", "refund", "coupon", "compensat", "guarantee", "free ",
	"as an ai", "language model", "退款", "优惠券", "赔偿", "保证", "免费", "人工智能", "语言模型"}

// Placeholders stand for slot values in cached texts; private-use runes
// that no model writes and no check counts as a letter or a digit.
const (
	phCode    = "\uE000"
	phShelf   = "\uE001"
	phMinutes = "\uE002"
	phStore   = "\uE003"
)

var (
	digitRun   = regexp.MustCompile(`\p{Nd}+`)
	zhNumber   = regexp.MustCompile(`[零〇一二两三四五六七八九十百千万半]+\s*(分钟|分|点|时|小时|秒|号|个|份|刻|天|周)`)
	zhTime     = regexp.MustCompile(`今天|明天|昨天|中午|下午|上午|晚上|凌晨|早上|傍晚|点钟|小时|秒钟|星期|周[一二三四五六日末]`)
	enNumber   = regexp.MustCompile(`(?i)\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|hundred|half|quarter|dozen|couple)\b`)
	enTime     = regexp.MustCompile(`(?i)\b(noon|midnight|tomorrow|tonight|today|yesterday|o'?clock|hours?|hrs?|seconds?|secs?|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b`)
	orderCode  = regexp.MustCompile(`[#＃№]\s*\S`)
	cancelWord = regexp.MustCompile(`(?i)cancel|取消|撤单`)
	markupChar = regexp.MustCompile("[`*<>{}\\[\\]]")
)

// Verify checks a generated text against the facts it must state: every
// slot value (order code, minutes, shelf) appears exactly; no other number,
// time word or order code appears; the language matches f.Locale (zh-CN:
// Han characters and little Latin; en: Latin and no Han); the length fits
// lim; nothing from the deny-list; it speaks of cancelling exactly when the
// kind is cancelled. A nil error means the text may be sent.
// Failures are *VerifyError with a Reason.
func Verify(f cloud.Facts, text string, lim Limits) error {
	_, err := mask(f, text, lim)
	return err
}

// mask verifies text and returns it with slot values replaced by
// placeholders, for the cache.
func mask(f cloud.Facts, text string, lim Limits) (string, error) {
	if strings.TrimSpace(text) == "" {
		return "", refuse(ReasonEmpty, "no text")
	}
	if err := checkShape(text, lim); err != nil {
		return "", err
	}
	rest, err := removeSlots(f, text)
	if err != nil {
		return "", err
	}
	if err := checkInventions(rest); err != nil {
		return "", err
	}
	if err := checkLanguage(f.Locale, rest); err != nil {
		return "", err
	}
	if says := cancelWord.MatchString(rest); says != (f.Kind == wire.KindCancelled) {
		return "", refuse(ReasonKind, "a %s message that does%s mention cancelling", f.Kind, map[bool]string{true: "", false: " not"}[says])
	}
	return rest, nil
}

func checkShape(text string, lim Limits) error {
	for _, r := range text {
		if unicode.IsControl(r) || r >= 0xE000 && r <= 0xF8FF {
			return refuse(ReasonFormat, "control or private-use character %U", r)
		}
	}
	if markupChar.MatchString(text) {
		return refuse(ReasonFormat, "markup character in %q", text)
	}
	if n := utf8.RuneCountInString(text); lim.MaxChars > 0 && n > lim.MaxChars {
		return refuse(ReasonTooLong, "%d characters, limit %d", n, lim.MaxChars)
	}
	if c := sms.Measure(text); lim.MaxSMSSegments > 0 && c.Segments > lim.MaxSMSSegments {
		return refuse(ReasonTooLong, "%d %s SMS segments, limit %d", c.Segments, c.Encoding, lim.MaxSMSSegments)
	}
	lower := strings.ToLower(text)
	for _, w := range lim.DenyList {
		if w != "" && strings.Contains(lower, strings.ToLower(w)) {
			return refuse(ReasonDenyList, "contains %q", w)
		}
	}
	return nil
}

// removeSlots checks every slot is present and replaces each with its
// placeholder. Longer values go first so a value inside another (shelf "3"
// in code "#23") is not counted twice.
func removeSlots(f cloud.Facts, text string) (string, error) {
	type slot struct{ name, value, ph string }
	slots := []slot{{"order code", f.ShortCode, phCode}, {"shelf", f.Shelf, phShelf}}
	if len(f.Shelf) > len(f.ShortCode) {
		slots[0], slots[1] = slots[1], slots[0]
	}
	for _, s := range slots {
		if s.value == "" {
			continue
		}
		if !strings.Contains(text, s.value) {
			return "", refuse(ReasonMissingSlot, "%s %q not in text", s.name, s.value)
		}
		text = strings.ReplaceAll(text, s.value, s.ph)
	}
	if f.StoreName != "" {
		text = strings.ReplaceAll(text, f.StoreName, phStore) // optional; may hold digits
	}
	if f.Minutes == nil {
		return text, nil
	}
	m := strconv.Itoa(*f.Minutes)
	found := false
	text = digitRun.ReplaceAllStringFunc(text, func(run string) string {
		if run != m {
			return run
		}
		found = true
		return phMinutes
	})
	if !found {
		return "", refuse(ReasonMissingSlot, "minutes %q not in text", m)
	}
	return text, nil
}

// checkInventions refuses any number, time word or order code left after
// the slots are removed.
func checkInventions(rest string) error {
	if d := digitRun.FindString(rest); d != "" {
		return refuse(ReasonInventedNum, "number %q is not a fact", d)
	}
	for _, re := range []*regexp.Regexp{zhNumber, enNumber} {
		if w := re.FindString(rest); w != "" {
			return refuse(ReasonInventedNum, "number %q is not a fact", w)
		}
	}
	for _, re := range []*regexp.Regexp{zhTime, enTime} {
		if w := re.FindString(rest); w != "" {
			return refuse(ReasonInventedTime, "time %q is not a fact", w)
		}
	}
	if c := orderCode.FindString(rest); c != "" {
		return refuse(ReasonInventedCode, "order code %q is not a fact", c)
	}
	return nil
}

// checkLanguage judges the script of rest (slots removed).
func checkLanguage(locale, rest string) error {
	var han, latin, other int
	for _, r := range rest {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case unicode.Is(unicode.Latin, r):
			latin++
		case unicode.IsLetter(r):
			other++
		}
	}
	switch language(locale) {
	case "zh":
		if han < 2 || latin*4 > han || other > 0 {
			return refuse(ReasonLanguage, "zh-CN text has %d Han, %d Latin, %d other letters", han, latin, other)
		}
	case "en":
		if han > 0 || other > 0 || latin < 4 {
			return refuse(ReasonLanguage, "en text has %d Han, %d Latin, %d other letters", han, latin, other)
		}
	default:
		return refuse(ReasonLanguage, "unsupported locale %q", locale)
	}
	return nil
}

// language maps a locale to "zh", "en" or "" (unsupported).
func language(locale string) string {
	base, _, _ := strings.Cut(strings.ToLower(locale), "-")
	switch base {
	case "zh", "en":
		return base
	}
	return ""
}
