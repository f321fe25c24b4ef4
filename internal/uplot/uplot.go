// Package uplot serves uPlot (https://github.com/leeoniya/uPlot, MIT, see
// LICENSE), the small charting library the pass board and the ops page
// draw with, from the binary: no CDN, so the pages plot offline on the
// in-store box. The files are the npm package's dist/uPlot.iife.min.js and
// dist/uPlot.min.css of the version named in VERSION, copied unchanged,
// and chart.js, Passline's one helper that draws a time series with them.
package uplot

import (
	"embed"
	"net/http"
)

//go:embed uPlot.iife.min.js uPlot.min.css chart.js LICENSE VERSION
var files embed.FS

// Handler serves uPlot.iife.min.js, uPlot.min.css, chart.js and LICENSE
// at the root; mount it under a prefix with http.StripPrefix. They change
// only with the binary, so clients may cache them for an hour.
func Handler() http.Handler {
	fs := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fs.ServeHTTP(w, r)
	})
}
