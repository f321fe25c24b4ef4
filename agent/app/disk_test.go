package app_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/app"
	at "github.com/passline/passline/agent/internal/agenttest"
)

// TestFullDiskIsReportedAndNothingIsAckedUntilCommitted makes every commit
// fail as on a full disk: health goes 503 with the error, status shows it,
// the embedded broker sends the publisher no PUBACK, and once the disk has
// room the event is committed and the PUBACK sent.
func TestFullDiskIsReportedAndNothingIsAckedUntilCommitted(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	var full atomic.Bool
	m := runMain(t, testConfig("s1", n.URL(), t.TempDir()), agent.BasicDecider{}, func(m *app.Main) {
		m.BeforeCommit = func() error {
			if full.Load() {
				return errors.New("write state.db: no space left on device")
			}
			return nil
		}
	})
	full.Store(true)
	pub := at.Publisher(t, "tcp://"+m.MQTTAddr())
	ev := at.Ticket("s1", "o1", "grill", time.Now())
	b, _ := ev.Marshal()
	tok := pub.Publish(at.Topic(ev), 1, false, b)
	at.Eventually(t, 20*time.Second, "health 503", func() bool {
		resp, err := http.Get("http://" + m.HTTPAddr() + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	var st app.Status
	getJSON(t, m, "/status", &st)
	if st.Ingest.LastError == "" || st.Ingest.CommitFailures == 0 {
		t.Errorf("status does not show the write error: %+v", st.Ingest)
	}
	select {
	case <-tok.Done():
		t.Fatalf("PUBACK while the disk was full (err %v, committed %d)", tok.Error(), m.Writer.Committed())
	default:
	}
	if m.Writer.Committed() != 0 {
		t.Fatalf("%d committed while the disk was full", m.Writer.Committed())
	}
	full.Store(false)
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("no PUBACK after recovery: %v", tok.Error())
	}
	at.Eventually(t, 10*time.Second, "counted as committed, no error", func() bool {
		return m.Writer.Committed() == 1 && m.Writer.LastError() == ""
	})
}
