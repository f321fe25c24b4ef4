// Package bench measures the relay (build tag bench; run with make
// bench-cloud): the raw JetStream consume+ack rate on the server, the relay's
// end-to-end rate (publish → rider subject) with one and two replicas, and
// p99 latency at half the maximum rate, printed as one table with ratios.
package bench
