// Package chaos is Passline's fault-injection run: real agent and relay
// processes under steady load while agents are killed, NATS nodes and
// relays restarted, the MQTT broker bounced, a process paused and a
// store's uplink cut; at the end the streams' own records are checked for
// lost, missing and duplicated rider messages. The short version (about
// 75 s of faults) runs in the default test suite; PASSLINE_CHAOS=long
// (`make chaos`) runs about 10 minutes of faults.
package chaos
