package modelcmd

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

func printReport(w io.Writer, r *Report) {
	fmt.Fprintf(w, "history: %d orders (%d bad rows skipped), %d stores; learned first %d (train-frac %.2f), scored %d\n\n",
		r.Rows, r.BadRows, r.Stores, r.Trained, r.TrainFrac, r.Scored)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "method\tMAE s\tmedian |err| s\tp90 |err| s\tbias s\tn\t")
	for _, m := range []struct {
		name string
		e    *Errors
	}{{"model", &r.Model}, {"baseline_store_median", &r.StoreMedian}, {"baseline_global_median", &r.GlobalMedian}, {"baseline_bucket_median", &r.BucketMedian}} {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%+.1f\t%d\t\n", m.name, m.e.MAE, m.e.MedianAbs, m.e.P90Abs, m.e.Bias, m.e.N)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nmodel MAE / store rolling median MAE = %.3f\n\n", r.RatioToStore)
	fmt.Fprintln(w, "calibration of P(ready within d | elapsed), asked at accept and at 2, 5, 10, 15, 20 min while open:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "d s\tP range\tn\tmean P\tobserved\tgap pts\t")
	for _, b := range r.Calibration {
		if b.N == 0 {
			continue
		}
		fmt.Fprintf(tw, "%d\t%.2f-%.2f\t%d\t%.3f\t%.3f\t%+.1f\t\n", b.D, b.PLo, b.PHi, b.N, b.Predicted, b.Observed, 100*(b.Observed-b.Predicted))
	}
	tw.Flush()
	c := r.Confident
	fmt.Fprintf(w, "\nconfident predictions (P >= %.2f): n=%d mean P %.3f, ready in time %.3f\n", c.Threshold, c.N, c.Predicted, c.Observed)
	printClasses(w, r)
	fmt.Fprintf(w, "replay took %.2f s\n", r.Seconds)
}

// printClasses prints the per store-size class figures: accuracy, the
// confident predictions per horizon, and ready_soon coverage.
func printClasses(w io.Writer, r *Report) {
	fmt.Fprintf(w, "\nprior: %s\n", r.Prior)
	fmt.Fprintf(w, "by store size (orders the store had learned before the order):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\torders\tMAE s\tstore median s\tratio\td s\tn P>=0.85\tmean P\tobserved\tgap pts\t")
	for _, c := range r.Classes {
		for k, h := range c.Confident {
			head := "\t\t\t\t"
			if k == 0 {
				head = fmt.Sprintf("%s\t%d\t%.1f\t%.1f\t%.3f", c.Class, c.Orders, c.ModelMAE, c.StoreMAE, c.RatioToStore)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.3f\t%+.1f\t\n", head, h.D, h.N, h.Predicted, h.Observed, 100*(h.Observed-h.Predicted))
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nready_soon at P(ready within %d s) >= %.2f, checked every %s while cooking:\n", r.ReadySoon.LeadS, ConfidentP, readySoonTick)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\torders\tsent\tcoverage\tmean P\tready in time\t")
	for _, c := range r.Classes {
		rs := c.ReadySoon
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", c.Class, rs.Orders, rs.Sent, rs.Coverage, rs.Predicted, rs.Observed)
	}
	rs := r.ReadySoon
	fmt.Fprintf(tw, "all\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", rs.Orders, rs.Sent, rs.Coverage, rs.Predicted, rs.Observed)
	tw.Flush()
}

// progressBar draws a one-line bar on a terminal-ish writer.
type progressBar struct {
	w     io.Writer
	label string
	last  int
}

func (p *progressBar) update(done, total int) {
	if total <= 0 {
		return
	}
	pct := done * 100 / total
	if pct == p.last {
		return
	}
	p.last = pct
	n := pct * 30 / 100
	fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %d/%d", p.label, strings.Repeat("=", n), strings.Repeat(" ", 30-n), pct, done, total)
}

func (p *progressBar) done() { fmt.Fprintf(p.w, "\r%s [%s] 100%%\n", p.label, strings.Repeat("=", 30)) }
