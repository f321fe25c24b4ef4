package ingest

import "time"

// SetTick changes how often open orders are re-evaluated (a new
// retry_interval from the config center) without a restart. It never
// blocks; a period that is not positive is ignored. The Tick field keeps
// the period the writer started with.
func (w *Writer) SetTick(d time.Duration) {
	if d <= 0 || w.tickc == nil { // a Writer not made by NewWriter keeps Tick
		return
	}
	for {
		select {
		case w.tickc <- d:
			return
		default: // a newer period replaces one not yet taken
			select {
			case <-w.tickc:
			default:
			}
		}
	}
}
