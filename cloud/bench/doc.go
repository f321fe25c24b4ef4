// Package bench measures the relay: build tag bench, run with
// `make bench-cloud` (go test -tags bench -run '^$' -bench . -benchtime 1x
// ./cloud/...). BenchmarkCloudRelay prints, in one run: the raw JetStream
// consume+ack rate (rawjs); the fair baseline, which consumes, makes the
// relay's stored writes per decision (its RIDER_OUTBOX notification and
// its order-view put, asynchronously, window 1024) and acks; the relay's
// rate (preloaded decisions → rider subjects) with one and two replicas
// and with the rider outbox off, on one server, all with
// relay.ready_resend off (every decision here is a ready, and its re-send
// check reads the outbox later), then one replica with the default
// re-send, its delay cut to 2 s, whose row also prints the CPU per
// decision until the KPI recorder and the re-send consumers have handled
// and acked every message of the run (riders' acks stored beforehand, so nothing
// is re-sent): the steady-state cost of the default config; the relay
// with P = 1 and
// P = 4 partitions on a 3-node cluster; and p50/p99 latency at half the
// one-replica maximum (with the p99 split at the relay, and the cores the
// process used, the Go scheduler latency p99 and the GC share during that
// run; the load generator publishes on schedule with a sliding window of
// acks), with ratios, CPU and heap objects per message and the load
// average, and writes the same
// into its section of BENCHMARKS.md (PASSLINE_BENCH_OUT names another
// file; internal/benchmd keeps the other sections). Each rate is the
// median of PASSLINE_BENCH_REPS runs (default 3) of PASSLINE_BENCH_N
// decisions (default 50000), timed from the first message settled to the
// last. Each case stops its servers and relays when it ends, so no case
// runs beside the idle leftovers of the ones before it, and deletes its
// stored streams. The servers store on files under TMPDIR: on a disk other
// work writes to, every stored message's write() may wait for it (at 2,000
// decisions/s on this shared machine, p99 159-253 ms on ext4 against
// 58-92 ms with TMPDIR on tmpfs); TMPDIR=/dev/shm/... takes the disk out
// of the figures.
// PASSLINE_BENCH_CLUSTER_REPLICAS (default 1) sets the cluster
// streams' replicas, PASSLINE_BENCH_CLUSTER_RELAYS (default 2) the relays
// on the cluster, PASSLINE_BENCH_SPREAD=1 gives the cluster's nodes the
// same storage limit so its one-replica streams spread over the nodes
// (without it they all land on one), PASSLINE_BENCH_PLACEMENT=1 prints
// each stream's node. BenchmarkClusterPartitions (PASSLINE_BENCH_AB=1)
// runs P = 1 and P = 4 alone, interleaved, with a fair baseline on the
// cluster beside the relay.
package bench
