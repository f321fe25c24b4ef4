// Command passline-bridge turns kitchen devices (ticket printer, scale, bump
// bars, GPIO buttons and lights) or a simulated kitchen into MQTT events for
// the Passline agent.
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

	"periph.io/x/host/v3"

	"github.com/passline/passline/firmware-bridge/app"
	"github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/internal/service"
)

const usage = `Usage: passline-bridge [run] [-config PATH]

Reads the kitchen's devices and publishes what they see to the store's MQTT
broker, on passline/v1/{store}/{device}/{device_id}/{event}:

  sim     a simulated kitchen: tickets, bump keys and bag weights
  escpos  print proxy: the POS prints to this bridge (TCP 9100), every byte
          goes on to the real printer, tickets are read on the way
  scale   a continuous-output serial scale: stable bag weights
  evdev   a USB bump bar (HID keyboard): bump, start, recall, mark, select keys
  scanner a USB barcode scanner (HID keyboard): each scanned ticket code is
          a scan event, the order's ready report
  gpio    buttons as bump keys; LEDs and buzzers driven by MQTT commands

"run" (the default) runs the bridge. Each driver is enabled in the config
file. The bridge runs until SIGINT or SIGTERM, then marks its devices
offline and exits.

Flags:
`

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "passline-bridge:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("passline-bridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "/etc/passline/bridge.yaml", "configuration file (YAML; ${VAR} is expanded, $$ is a literal $)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if len(args) > 0 && args[0] == "run" { // "run" is the only command, and the default
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if rest := fs.Args(); len(rest) > 0 && !(len(rest) == 1 && rest[0] == "run") {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", rest[0])
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	m := app.NewMain()
	m.Config = cfg
	m.Logger = service.NewLogger(stderr, cfg.LogLevel)
	if cfg.GPIO.Enabled {
		if _, err := host.Init(); err != nil {
			return fmt.Errorf("init GPIO host drivers: %w", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return service.Run(ctx, m, m.Logger) // READY=1 and watchdog pings under systemd
}
