package phrase_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/phrase"
	"github.com/passline/passline/wire"
)

func TestVerify(t *testing.T) {
	four, one := 4, 1
	soon := cloud.Facts{Kind: wire.KindReadySoon, ShortCode: "#23", Minutes: &four, Shelf: "B3", Locale: "en"}
	soonZH := soon
	soonZH.Locale = "zh-CN"
	shelfInCode := cloud.Facts{Kind: wire.KindReady, ShortCode: "#23", Shelf: "3", Locale: "en"}
	store7 := cloud.Facts{Kind: wire.KindReady, ShortCode: "#5", StoreName: "Noodle 7", Locale: "en"}
	cancelled := cloud.Facts{Kind: wire.KindCancelled, ShortCode: "#23", Locale: "zh-CN"}
	oneMin := cloud.Facts{Kind: wire.KindETA, ShortCode: "A-017", Minutes: &one, Locale: "en-US"}
	lim := phrase.Limits{MaxChars: 80, MaxSMSSegments: 1, DenyList: phrase.DefaultDenyList}
	tests := []struct {
		name string
		f    cloud.Facts
		text string
		want phrase.Reason // "" = accepted
	}{
		{"en ok", soon, "Order #23 will be ready in about 4 minutes at shelf B3.", ""},
		{"zh ok", soonZH, "订单 #23 约 4 分钟后可取，请到 B3 号架。", ""},
		{"zh with one latin word ok", soonZH, "订单 #23 约 4 分钟后可取，请到 B3 号架，OK！", ""},
		{"shelf inside code ok", shelfInCode, "Order #23 is ready, shelf 3.", ""},
		{"digits of store name ok", store7, "Order #5 is ready at Noodle 7.", ""},
		{"cancelled zh ok", cancelled, "订单 #23 已取消，请不要前往取餐。", ""},
		{"singular minute ok", oneMin, "Order A-017 ready in 1 minute.", ""},
		{"empty", soon, "   ", phrase.ReasonEmpty},
		{"minutes missing", soon, "Order #23 will be ready soon at shelf B3.", phrase.ReasonMissingSlot},
		{"minutes as word", soon, "Order #23 ready in four minutes at shelf B3.", phrase.ReasonMissingSlot},
		{"fullwidth minutes", soon, "Order #23 ready in ４ minutes at shelf B3.", phrase.ReasonMissingSlot},
		{"shelf missing", shelfInCode, "Order #23 is ready.", phrase.ReasonMissingSlot},
		{"other number", soon, "Order #23 ready in 4 minutes at shelf B3, 2 bags.", phrase.ReasonInventedNum},
		{"range", soon, "Order #23 ready in 4-5 minutes at shelf B3.", phrase.ReasonInventedNum},
		{"number on cancelled", cancelled, "订单 #23 已取消，10 分钟内退款。", phrase.ReasonDenyList},
		{"zh numeral duration", cancelled, "订单 #23 已取消，五分钟后再来。", phrase.ReasonInventedNum},
		{"half an hour", soon, "Order #23 ready in 4 minutes at shelf B3, half an hour max.", phrase.ReasonInventedNum},
		{"time word", soon, "Order #23 ready in 4 minutes at shelf B3 today.", phrase.ReasonInventedTime},
		{"zh time word", soonZH, "订单 #23 约 4 分钟后可取，请到 B3，今天辛苦了。", phrase.ReasonInventedTime},
		{"another code", soon, "Order #23 ready in 4 minutes at shelf B3, not #AX.", phrase.ReasonInventedCode},
		{"english for zh", soonZH, "Order #23 ready in 4 minutes at shelf B3.", phrase.ReasonLanguage},
		{"too much latin for zh", soonZH, "订单 #23 ready in 4 minutes at B3", phrase.ReasonLanguage},
		{"japanese kana for zh", soonZH, "订单 #23 は 4 分钟后 B3 です", phrase.ReasonLanguage},
		{"han in en", soon, "Order #23 ready in 4 minutes at shelf B3 谢谢", phrase.ReasonLanguage},
		{"unsupported locale", cloud.Facts{Kind: wire.KindReady, Locale: "fr"}, "Commande prête", phrase.ReasonLanguage},
		{"too many chars", soon, "Order #23 ready in 4 minutes at shelf B3." + strings.Repeat(" Go!", 12), phrase.ReasonTooLong},
		{"two sms segments in zh", soonZH, "订单 #23 约 4 分钟后可取，请到 B3。" + strings.Repeat("谢", 60), phrase.ReasonTooLong},
		{"link", soon, "Order #23 ready in 4 minutes at shelf B3 see http", phrase.ReasonDenyList},
		{"newline", soon, "Order #23 ready\nin 4 minutes at shelf B3", phrase.ReasonFormat},
		{"markdown", soon, "**Order #23** ready in 4 minutes at shelf B3", phrase.ReasonFormat},
		{"cancelled not said", cancelled, "订单 #23 请不要前往取餐。", phrase.ReasonKind},
		{"cancel said for ready", shelfInCode, "Order #23 is ready at shelf 3, not cancelled.", phrase.ReasonKind},
		{"placeholder smuggled", soon, "Order #23 ready in 4 minutes at shelf B3 \uE000", phrase.ReasonFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := phrase.Verify(tt.f, tt.text, lim)
			var ve *phrase.VerifyError
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (!errors.As(err, &ve) || ve.Reason != tt.want):
				t.Fatalf("Verify = %v, want reason %s", err, tt.want)
			}
		})
	}
}

// FuzzVerify: model output is outside bytes. Verify never panics, and what
// it accepts carries every slot value.
func FuzzVerify(f *testing.F) {
	f.Add("Order #23 will be ready in about 4 minutes at shelf B3.", "#23", 4, "B3", "en")
	f.Add("订单 #23 约 4 分钟后可取，请到 B3 号架。", "#23", 4, "B3", "zh-CN")
	f.Add("Order 1 ready 1", "1", 1, "1", "en")
	f.Fuzz(func(t *testing.T, text, code string, minutes int, shelf, locale string) {
		facts := cloud.Facts{Kind: wire.KindETA, ShortCode: code, Minutes: &minutes, Shelf: shelf, Locale: locale}
		if phrase.Verify(facts, text, phrase.Limits{MaxChars: 200}) != nil {
			return
		}
		for _, want := range []string{code, shelf, strconv.Itoa(minutes)} {
			if !strings.Contains(text, want) {
				t.Fatalf("accepted %q without slot %q", text, want)
			}
		}
	})
}

// FuzzDecodeCompletion: endpoint answers are outside bytes.
func FuzzDecodeCompletion(f *testing.F) {
	f.Add([]byte(`{"choices":[{"message":{"content":"hi"}}]}`))
	f.Add([]byte(`{"choices":[]}`))
	f.Add([]byte(`{"choices":[{"message":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = phrase.DecodeCompletion(b)
	})
}
