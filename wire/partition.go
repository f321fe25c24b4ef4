package wire

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Partitioned decisions. A cloud that runs P > 1 partitions has its NATS
// servers map every store's decision subject onto a partition subject,
// passline.{store}.decision → passline.decision.{p}.{store}, with the
// server's deterministic partition function over the store token
// (DecisionMapping). Agents keep publishing to DecisionSubject: the mapping
// is the servers', the agents never see it. Each partition p has its own
// stream, DecisionStream(p, P), so P stream leaders share the load.
const (
	// MetaPartitions is the stream metadata key under which the DECISIONS
	// stream records how many partitions the decisions are spread over.
	MetaPartitions = "passline.partitions"
	// MaxPartitions bounds P.
	MaxPartitions = 1024
)

// Partition is the partition of a store's decisions among p: FNV-1a 32 of
// the store id modulo p, the hash nats-server's {{partition(p,1)}} mapping
// function computes over the store token, so the relay knows without asking
// where the servers put a store.
func Partition(store string, p int) int {
	if p <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(store))
	return int(h.Sum32() % uint32(p))
}

// DecisionMapping is the server-side subject mapping that spreads decisions
// over p partitions: source SubjectDecisions, destination
// passline.decision.{{partition(p,1)}}.{{wildcard(1)}}. In a nats-server
// config file: mappings = { "passline.*.decision": "<dest>" }.
func DecisionMapping(p int) (src, dest string) {
	return SubjectDecisions, "passline.decision.{{partition(" + strconv.Itoa(p) + ",1)}}.{{wildcard(1)}}"
}

// PartitionSubject is where the mapping puts a store's decision in
// partition p: passline.decision.{p}.{store}.
func PartitionSubject(p int, store string) string {
	return "passline.decision." + strconv.Itoa(p) + "." + store
}

// DecisionStream names partition p's stream of p partitions: DECISIONS
// itself when there is one partition, else DECISIONS_{p}. With P > 1 the
// DECISIONS stream stays: it records P (MetaPartitions), answers agents
// that look it up, and holds whatever arrived before the mapping did.
func DecisionStream(p, partitions int) string {
	if partitions <= 1 {
		return StreamDecisions
	}
	return StreamDecisions + "_" + strconv.Itoa(p)
}

// DecisionStreamSubject is the subject filter of DecisionStream(p, partitions).
func DecisionStreamSubject(p, partitions int) string {
	if partitions <= 1 {
		return SubjectDecisions
	}
	return "passline.decision." + strconv.Itoa(p) + ".*"
}

// ParsePartitionSubject returns the partition and store of a partition
// subject.
func ParsePartitionSubject(s string) (p int, store string, err error) {
	parts := strings.Split(s, ".")
	if len(parts) == 4 && parts[0] == "passline" && parts[1] == "decision" && ValidToken(parts[3]) {
		if p, err := strconv.Atoi(parts[2]); err == nil && p >= 0 && p < MaxPartitions {
			return p, parts[3], nil
		}
	}
	return 0, "", &Error{Reason: ReasonTopic, Msg: fmt.Sprintf("subject %q is not passline.decision.{p}.{store}", s)}
}

// DecisionStore returns the store of a decision subject in either form:
// passline.{store}.decision or passline.decision.{p}.{store}.
func DecisionStore(s string) (string, error) {
	if _, store, err := ParsePartitionSubject(s); err == nil {
		return store, nil
	}
	return ParseDecisionSubject(s)
}
