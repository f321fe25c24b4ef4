// Command passline-agent is Passline's in-store agent.
//
//	passline-agent [-config PATH] [run]     run the agent (default)
//	passline-agent [-config PATH] status    print the running agent's status
//	passline-agent [-config PATH] rejects [-limit N]   print the newest rejected payloads
//	passline-agent model ...                evaluate or import the prep-time model
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"periph.io/x/host/v3"

	"github.com/passline/passline/agent/app"
	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/agent/modelcmd"
)

const usage = `passline-agent: Passline's in-store agent.

Usage:
  passline-agent [-config PATH] [run]                run the agent until SIGINT/SIGTERM
  passline-agent [-config PATH] status               print the running agent's /status JSON
  passline-agent [-config PATH] rejects [-limit N]   print the newest rejected payloads (JSON)
  passline-agent model ARGS...                       prep-time model: eval, import (see "model -h")

status and rejects ask the agent's local HTTP server at the config's
http.listen (override with -addr HOST:PORT).

Flags:
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "passline-agent:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("passline-agent", flag.ContinueOnError)
	path := fs.String("config", "/etc/passline/agent.yaml", "config file")
	addr := fs.String("addr", "", "status/rejects: the agent's HTTP address (default: config http.listen)")
	limit := fs.Int("limit", 50, "rejects: how many to print")
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cmd, rest := "run", fs.Args()
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "run":
		return runAgent(*path)
	case "status":
		return get(*path, *addr, "/status")
	case "rejects":
		sub := flag.NewFlagSet("rejects", flag.ContinueOnError)
		sub.IntVar(limit, "limit", *limit, "how many to print")
		if err := sub.Parse(rest); err != nil {
			return err
		}
		return get(*path, *addr, fmt.Sprintf("/rejects?limit=%d", *limit))
	case "model":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return modelcmd.Run(ctx, rest, os.Stdout, os.Stderr)
	}
	fs.Usage()
	return fmt.Errorf("unknown command %q", cmd)
}

func runAgent(path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	if cfg.GPIO.Enabled {
		if _, err := host.Init(); err != nil {
			return fmt.Errorf("gpio host init: %w", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := app.NewMain()
	m.Config, m.Log = cfg, log
	if err := m.Run(ctx); err != nil {
		return err
	}
	if err := m.NotifySystemd(ctx); err != nil {
		log.Warn("systemd notify", "err", err)
	}
	<-ctx.Done()
	log.Info("stopping")
	return m.Close()
}

// get prints the body of a GET to the agent's status server.
func get(path, addr, route string) error {
	if addr == "" {
		cfg, err := config.Load(path)
		if err != nil {
			return err
		}
		addr = cfg.HTTP.Listen
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + route)
	if err != nil {
		return fmt.Errorf("is the agent running? %w", err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(os.Stdout, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", route, resp.Status)
	}
	return nil
}
