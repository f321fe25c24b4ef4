package wire_test

import (
	"strings"
	"testing"

	"github.com/passline/passline/wire"
)

func TestStoreConfigNamesTheField(t *testing.T) {
	tests := []struct{ body, field string }{
		{`{"v":2}`, "v"},
		{`{"params":{"prediction_window":"0s"}}`, "params.prediction_window"},
		{`{"params":{"confidence_threshold":0}}`, "params.confidence_threshold"},
		{`{"params":{"retry_interval":"1h"}}`, "params.retry_interval"},
		{`{"params":{"lead_time":"soon"}}`, "params.lead_time"},
		{`{"rules":[{"name":"","when":"true","emit":"eta"}]}`, "rules[0].name"},
		{`{"rules":[{"name":"a","when":"true","emit":"eta"},{"name":"a","when":"true","emit":"eta"}]}`, "rules[1].name"},
		{`{"rules":[{"name":"a","when":" ","emit":"eta"}]}`, "rules[0].when"},
		{`{"rules":[{"name":"a","when":"true","emit":"shout"}]}`, "rules[0].emit"},
		{`{"locale":"fr"}`, "locale"},
	}
	for _, tt := range tests {
		_, err := wire.DecodeStoreConfig([]byte(tt.body))
		if err == nil || !strings.Contains(err.Error(), `"`+tt.field+`"`) {
			t.Errorf("%s: err = %v, want field %s", tt.body, err, tt.field)
		}
	}
	c, err := wire.DecodeStoreConfig([]byte(`{"v":1,"params":{"lead_time":"7m","confidence_threshold":0.9},"rules":[{"name":"a","when":"true","emit":"eta"}],"locale":"zh-CN"}`))
	if err != nil || *c.Params.ConfidenceThreshold != 0.9 || c.Rules[0].Emit != wire.KindETA {
		t.Fatalf("good config: %+v %v", c, err)
	}
	if d, err := c.Params.LeadTime.Value(); err != nil || d.Minutes() != 7 {
		t.Fatalf("lead_time %v %v", d, err)
	}
	if _, err := wire.DecodeStoreConfig([]byte(`{"locale":"en"} {"locale":"fr"}`)); wire.ReasonOf(err) != wire.ReasonMalformed || err == nil {
		t.Fatalf("trailing data: err = %v, want malformed", err)
	}
}

func FuzzDecodeStoreConfig(f *testing.F) {
	f.Add([]byte(`{"params":{"lead_time":"7m"},"rules":[{"name":"a","when":"true","emit":"eta"}],"locale":"en"}`))
	f.Add([]byte(`{"params":{"confidence_threshold":"x"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := wire.DecodeStoreConfig(b)
		if err == nil && c.Validate() != nil {
			t.Fatalf("decoded config %+v does not validate", c)
		}
	})
}
