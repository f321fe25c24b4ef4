// Command passline-cloud runs the Passline cloud relay, or tails rider
// notifications.
//
//	passline-cloud [run] [-config PATH]
//	passline-cloud tail [-nats URL] [-rider ID]
//	passline-cloud client add|rotate|revoke ...
//	passline-cloud store add STORE
//	passline-cloud nats init|relay ...
//	passline-cloud partitions -to N
//	passline-cloud model fit --history FILE.csv|--from-stream [--publish]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/config"
	"github.com/passline/passline/cloud/tail"
	"github.com/passline/passline/internal/service"
)

const usage = `passline-cloud relays Passline decisions from JetStream to riders.

Usage:
  passline-cloud [run] [-config PATH]     run the relay (default subcommand)
  passline-cloud tail [-nats URL] [-rider ID]
                                          print rider notifications, one line each
  passline-cloud client add|rotate|revoke ...
                                          manage API clients (client --help)
  passline-cloud store add STORE          mint a store box's NATS credentials
                                          (store --help)
  passline-cloud nats init|relay ...      make the NATS trust, mint relay
                                          credentials (nats --help)
  passline-cloud partitions -to N         record a new DECISIONS partition count
                                          (partitions --help)
  passline-cloud model fit --history FILE fit the prep-time model's fleet prior
  passline-cloud model fit --from-stream  per store category, from a history CSV
                                          or the synced ready decisions, and
                                          publish it (model --help)
  passline-cloud --help                   this text

run reads its YAML config (default /etc/passline/cloud.yaml; ${VAR} is
expanded, $$ is a literal $), connects to NATS or starts an embedded
nats-server, serves /healthz, /metrics and /v1/... on http.listen, and stops
cleanly on SIGINT or SIGTERM.

tail subscribes to passline.rider.{rider}.notify.* (every rider by default) on
-nats (default nats://127.0.0.1:4222) until interrupted.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "passline-cloud:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "run"
	switch {
	case len(args) == 0:
	case args[0] == "client":
		return runClient(ctx, args[1:], stdout, stderr)
	case args[0] == "store":
		return runStore(args[1:], stdout, stderr)
	case args[0] == "nats":
		return runNATS(args[1:], stdout, stderr)
	case args[0] == "partitions":
		return runPartitions(ctx, args[1:], stdout, stderr)
	case args[0] == "model":
		return runModel(ctx, args[1:], stdout, stderr)
	case args[0] == "run" || args[0] == "tail":
		cmd, args = args[0], args[1:]
	case isHelp(args):
		return help(args, usage, "", stdout)
	}
	fs := newFlagSet("passline-cloud "+cmd, usage, stderr)
	if cmd == "tail" {
		url := fs.String("nats", "nats://127.0.0.1:4222", "NATS URL")
		rider := fs.String("rider", "", "only this rider's notifications")
		if err := fs.Parse(args); err != nil {
			return err
		}
		return tail.Run(ctx, *url, *rider, stdout)
	}
	path := fs.String("config", "/etc/passline/cloud.yaml", "config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	m := app.NewMain()
	m.Config = cfg
	m.Logger = service.NewLogger(stderr, cfg.LogLevel)
	return service.Run(ctx, m, m.Logger) // READY=1 and watchdog pings under systemd
}
