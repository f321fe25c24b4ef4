package main

import (
	"fmt"
	"io"

	"github.com/passline/passline/cloud/natsauth"
)

const natsUsage = `passline-cloud nats makes the NATS trust and relay credentials.

Usage:
  passline-cloud nats init [-trust FILE] [-name NAME]
  passline-cloud nats relay [-trust FILE] [-out FILE] NAME

init creates the trust (an operator, its system account and the Passline
account, with their seeds) at -trust (default /etc/passline/nats-trust.json)
with mode 0600, refusing to replace one: a new trust cuts off every
credential minted under the old one. Set the cloud's nats.embedded.trust to
it, or put the server block it prints into nats-server.conf.

relay mints credentials a relay replica (its nats.creds) or the admin
commands (-creds) connect with, to -out (default NAME.creds), mode 0600.
`

// runNATS is `passline-cloud nats init|relay`.
func runNATS(args []string, stdout, stderr io.Writer) error {
	if isHelp(args) {
		return help(args, natsUsage, "nats: missing subcommand init or relay", stdout)
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("passline-cloud nats "+sub, natsUsage, stderr)
	trust := fs.String("trust", "/etc/passline/nats-trust.json", "trust file")
	switch sub {
	case "init":
		name := fs.String("name", "passline", "operator name")
		if err := fs.Parse(args); err != nil {
			return err
		}
		t, err := natsauth.InitTrust(*trust, *name)
		if err != nil {
			return fmt.Errorf("nats init: %w", err)
		}
		fmt.Fprintf(stdout, "wrote %s; set nats.embedded.trust to it, or give an external nats-server this block:\n\n%s", *trust, t.ServerConfig())
		return nil
	case "relay":
		return mintCreds(fs, trust, args, "nats relay", "NAME", natsauth.AddRelay, stdout,
			"use it as a relay's nats.creds or the admin commands' -creds")
	}
	return fmt.Errorf("nats: unknown subcommand %q; want init or relay", sub)
}
