// Package confprop measures the config center end to end: a store config
// PUT on the cloud API until the store's agent runs on it, against the raw
// JetStream KV put → watch delivery underneath. Run it with
//
//	go test -run XXX -bench ConfigPropagation -benchtime 300x ./e2e/confprop
//
// The product sheet promises under 200 ms.
package confprop
