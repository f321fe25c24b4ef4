// Package bench measures the relay: build tag bench, run with
// `make bench-cloud` (go test -tags bench -run '^$' -bench . -benchtime 1x
// ./cloud/...). BenchmarkCloudRelay prints, in one run, the raw JetStream
// consume+ack rate on the server, the relay's end-to-end rate (publish →
// rider subject) with one and two replicas, and p50/p99 latency at half
// the one-replica maximum, with ratios. Each rate is the median of
// PASSLINE_BENCH_REPS runs (default 3) of PASSLINE_BENCH_N decisions
// (default 50000).
package bench
