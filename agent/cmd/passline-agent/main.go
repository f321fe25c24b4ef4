// Command passline-agent is Passline's in-store agent.
//
//	passline-agent [run] [-config PATH]          run the agent (default)
//	passline-agent status [-config PATH]         print the running agent's status
//	passline-agent rejects [-config PATH] [-limit N]   print the newest rejected payloads
//	passline-agent model ...                     evaluate or import the prep-time model
//
// Flags may come before or after the command, as with passline-cloud and
// passline-bridge.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"periph.io/x/host/v3"

	"github.com/passline/passline/agent/app"
	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/agent/modelcmd"
	"github.com/passline/passline/agent/mqtt"
	"github.com/passline/passline/internal/service"
)

const usage = `passline-agent: Passline's in-store agent.

Usage:
  passline-agent [run] [-config PATH]                run the agent until SIGINT/SIGTERM
  passline-agent status [-config PATH]               print the running agent's /status JSON
  passline-agent rejects [-config PATH] [-limit N]   print the newest rejected payloads (JSON)
  passline-agent model ARGS...                       prep-time model: eval, import (see "model -h")
  passline-agent state check [-config PATH|-db FILE] check the state db (header, every page, invariants)
  passline-agent state salvage [-config PATH|-db FILE]  move a damaged state db aside and copy every readable
                                                     order, outbox entry, model, history record and event id
                                                     into a fresh one (stop the agent first)
  passline-agent mqtt-passwd USER                    read a password on stdin, print USER:bcrypt-hash
                                                     for mqtt.embedded.password_file

Flags may come before or after the command. status and rejects ask the
agent's local HTTP server at the config's http.listen (override with
-addr HOST:PORT).

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
	db := fs.String("db", "", "state: the state db file (default: state.db in the config's data_dir)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	cmd, rest := splitCommand(args)
	if cmd == "" { // flags came first: the command, if any, follows them
		if err := fs.Parse(rest); err != nil {
			return helpIsDone(err)
		}
		cmd, rest = "run", fs.Args()
		if len(rest) > 0 {
			cmd, rest = rest[0], rest[1:]
		}
	}
	if cmd == "mqtt-passwd" {
		return mqttPasswd(rest, os.Stdin, os.Stdout)
	}
	if cmd == "model" { // model has flags of its own
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return modelcmd.Run(ctx, rest, os.Stdout, os.Stderr)
	}
	sub := ""
	if cmd == "state" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		sub, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return helpIsDone(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch cmd {
	case "run":
		return runAgent(*path)
	case "status":
		return get(*path, *addr, "/status")
	case "rejects":
		return get(*path, *addr, fmt.Sprintf("/rejects?limit=%d", *limit))
	case "state":
		return state(sub, *path, *db, os.Stdout)
	}
	fs.Usage()
	return fmt.Errorf("unknown command %q", cmd)
}

// helpIsDone is err from parsing flags, nil for -h (the usage is printed).
func helpIsDone(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// splitCommand takes a leading command word off args, if there is one;
// otherwise the command (if any) follows the flags and cmd is "".
func splitCommand(args []string) (cmd string, rest []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

func runAgent(path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	log := service.NewLogger(os.Stderr, cfg.LogLevel)
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
	return service.Run(ctx, m, log)
}

// mqttPasswd prints a password file line for the user named in args, the
// password being the first line of in.
func mqttPasswd(args []string, in io.Reader, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: passline-agent mqtt-passwd USER < password")
	}
	pass, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("read password: %w", err)
	}
	line, err := mqtt.HashPassword(args[0], strings.TrimRight(pass, "\r\n"))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, line)
	return err
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
