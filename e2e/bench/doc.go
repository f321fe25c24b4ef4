// Package bench is Passline's whole-system benchmark (`make bench`): many
// store agents, the relay and simulated kitchens in one process on loopback,
// with the raw limits of the brokers and the state db measured in the same
// run. The benchmarks live behind the build tag "bench"; this file only
// keeps the package buildable without it.
package bench
