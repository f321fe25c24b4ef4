package e2e_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/promql/parser"
)

// TestGrafanaDashboardLints checks configs/grafana/passline-dashboard.json:
// it decodes strictly into Grafana's dashboard schema (the Grafana
// Foundation SDK's generated types: an unknown or mistyped field fails)
// and passes the schema's Validate; every panel queries the Prometheus
// datasource variable; every PromQL expression parses (Prometheus's own
// parser, with the dashboard's variables filled in); every metric it
// names is in configs/METRICS.md (histogram series only through
// _bucket, _sum or _count), and every metric METRICS.md lists is on the
// dashboard.
func TestGrafanaDashboardLints(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "configs", "grafana", "passline-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard.Dashboard
	if err := buildErr(d.UnmarshalJSONStrict(raw)); err != nil {
		t.Fatalf("not a Grafana dashboard: %v", err)
	}
	if err := buildErr(d.Validate()); err != nil {
		t.Fatalf("dashboard schema: %v", err)
	}
	if d.Uid == nil || *d.Uid == "" || d.Title == nil || *d.Title == "" || d.SchemaVersion < 36 {
		t.Fatalf("uid %v, title %v, schemaVersion %d", d.Uid, d.Title, d.SchemaVersion)
	}
	types := map[string]string{}
	for _, m := range readMetricsDoc(t) {
		types[m.name] = m.typ
	}
	// The panels' JSON as Grafana stores it: targets keep their expr.
	var doc struct {
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource *struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
			GridPos struct{ H, W, X, Y int } `json:"gridPos"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	promql := parser.NewParser(parser.Options{})
	vars := strings.NewReplacer("$__rate_interval", "5m", "$store", ".*")
	used, ids := map[string]bool{}, map[int]bool{}
	for _, p := range doc.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X+p.GridPos.W > 24 || p.GridPos.W <= 0 {
			t.Errorf("panel %q is outside the 24-column grid: %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %+v, %d targets; want the ${datasource} Prometheus variable and a query", p.Title, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			expr, err := promql.ParseExpr(vars.Replace(tg.Expr))
			if err != nil {
				t.Errorf("panel %q: %q: %v", p.Title, tg.Expr, err)
				continue
			}
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				name, typ := documentedSeries(vs.Name, types)
				switch {
				case typ == "":
					t.Errorf("panel %q uses %s, which configs/METRICS.md does not document", p.Title, vs.Name)
				case name != vs.Name && typ != "histogram":
					t.Errorf("panel %q uses %s, but %s is a %s", p.Title, vs.Name, name, typ)
				case name == vs.Name && typ == "histogram":
					t.Errorf("panel %q uses histogram %s without _bucket, _sum or _count", p.Title, vs.Name)
				}
				used[name] = true
				return nil
			})
		}
	}
	for name := range types {
		if !used[name] {
			t.Errorf("configs/METRICS.md documents %s, but no dashboard panel shows it (add a panel to configs/grafana/passline-dashboard.json)", name)
		}
	}
	t.Logf("%d panels, %d of %d documented metrics shown", len(doc.Panels), len(used), len(types))
}

// buildErr is err, or nil for the SDK's empty cog.BuildErrors: its
// decoders return their error list typed, so an empty one is a non-nil
// error.
func buildErr(err error) error {
	var b cog.BuildErrors
	if errors.As(err, &b) && len(b) == 0 {
		return nil
	}
	return err
}

// documentedSeries maps a series name to the documented metric it belongs
// to (a histogram's _bucket, _sum and _count series to the histogram) and
// that metric's type; "" when undocumented.
func documentedSeries(series string, types map[string]string) (string, string) {
	if typ, ok := types[series]; ok {
		return series, typ
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(series, suffix); ok {
			if typ, ok := types[base]; ok {
				return base, typ
			}
		}
	}
	return series, ""
}
