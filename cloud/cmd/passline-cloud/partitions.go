package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/wire"
)

const partitionsUsage = `passline-cloud partitions [-nats URL] [-creds FILE] [-tls-ca FILE] -to N

Records N as the number of DECISIONS partitions, so that relays configured
with stream.partitions: N start and create the streams DECISIONS_0 ..
DECISIONS_{N-1}. N must be a multiple of the current count. Before running
it, set every NATS server's subject mapping to N partitions:

  mappings = { "passline.*.decision": "passline.decision.{{partition(N,1)}}.{{wildcard(1)}}" }

(the embedded server sets it from stream.partitions itself). Agents buffer
what they cannot publish meanwhile. See the README's Partitions section.
`

func runPartitions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if isHelp(args) {
		return help(args, partitionsUsage, "", stdout)
	}
	fs := newFlagSet("passline-cloud partitions", partitionsUsage, stderr)
	var nf natsFlags
	nf.register(fs)
	to := fs.Int("to", 0, "the new partition count")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to < 1 {
		return errors.New("partitions: -to N is required")
	}
	nc, js, err := nf.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	from, err := natsjs.SetPartitions(ctx, js, *to)
	if err != nil {
		return fmt.Errorf("partitions: %w", err)
	}
	src, dest := wire.DecisionMapping(*to)
	fmt.Fprintf(stdout, "DECISIONS: %d → %d partitions; the servers need the mapping %q: %q\n", from, *to, src, dest)
	return nil
}
