// Package chaos is Passline's fault-injection run (`make chaos`): real
// agent and relay processes under steady load while agents are killed,
// NATS nodes and relays restarted, the MQTT broker bounced, a process
// paused and a store's uplink cut; at the end the streams' own records are
// checked for lost, missing and duplicated rider messages. The run lives
// behind the build tag "chaos"; this file only keeps the package buildable
// without it.
package chaos
