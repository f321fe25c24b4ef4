package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/token"
)

const clientUsage = `passline-cloud client manages API clients in the KV bucket PASSLINE_CLIENTS.

Usage:
  passline-cloud client add [flags] -scopes LIST
  passline-cloud client rotate [flags] CLIENT_ID
  passline-cloud client revoke [flags] CLIENT_ID

add and rotate print the client secret once, on stdout; it is stored only
as a bcrypt hash and cannot be shown again. rotate replaces the secret at
once (the old one stops working; tokens already issued live until they
expire). revoke refuses the client's secret and its tokens from now on;
the id is never reused.

Flags:
  -nats URL        NATS to connect to (default nats://127.0.0.1:4222)
  -creds FILE      .creds file for that NATS (a relay's credentials)
  -tls-ca FILE     CA bundle that signed the NATS server's certificate
  -replicas N      bucket replicas when add creates it (default 1)
add only:
  -id ID           client id (default: a random cl_... id)
  -tier TIER       free or enterprise (default free)
  -scopes LIST     comma-separated: orders:read, assignments:write,
                   templates:write, config:write, platform:write,
                   ops:read, rider:ID, rider:*
  -stores LIST     comma-separated stores it may touch, * for all
  -merchants LIST  comma-separated merchants it may touch, * for all
`

const storeUsage = `passline-cloud store mints a store box's NATS credentials.

Usage:
  passline-cloud store add [-trust FILE] [-out FILE] STORE

add signs a user for STORE under the Passline account in -trust (default
/etc/passline/nats-trust.json) that may publish only in passline.STORE.>,
read only its own config key and write only its own status key. It writes
the .creds file to -out (default STORE.creds) with mode 0600 and refuses
to overwrite one. Copy it to the store's box and set the agent's
nats.creds to its path.
`

// natsFlags are the connection flags of the client subcommands.
type natsFlags struct {
	url, creds, ca string
	replicas       int
}

func (f *natsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "nats", "nats://127.0.0.1:4222", "NATS URL")
	fs.StringVar(&f.creds, "creds", "", ".creds file")
	fs.StringVar(&f.ca, "tls-ca", "", "CA bundle of the NATS server")
	fs.IntVar(&f.replicas, "replicas", 1, "bucket replicas")
}

// connect connects with the flags; close the connection after.
func (f *natsFlags) connect() (*nats.Conn, jetstream.JetStream, error) {
	opts := []nats.Option{nats.Name("passline-cloud admin"), nats.Timeout(5 * time.Second)}
	if f.creds != "" {
		opts = append(opts, nats.UserCredentials(f.creds))
	}
	if f.ca != "" {
		opts = append(opts, nats.RootCAs(f.ca))
	}
	nc, err := nats.Connect(f.url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect nats %s: %w", f.url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, nil
}

// open connects and opens the clients bucket; close the connection after.
func (f *natsFlags) open(ctx context.Context) (*nats.Conn, natsjs.Clients, error) {
	nc, js, err := f.connect()
	if err != nil {
		return nil, natsjs.Clients{}, err
	}
	store, err := natsjs.SetupClients(ctx, js, f.replicas)
	if err != nil {
		nc.Close()
		return nil, natsjs.Clients{}, err
	}
	return nc, store, nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	return fs
}

func isHelp(args []string) bool {
	return len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help"
}

// help prints usage; it is flag.ErrHelp when asked for and the missing
// subcommand error when args are empty.
func help(args []string, usage, missing string, stdout io.Writer) error {
	fmt.Fprint(stdout, usage)
	if len(args) == 0 {
		return errors.New(missing)
	}
	return flag.ErrHelp
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// runClient is `passline-cloud client add|rotate|revoke`.
func runClient(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if isHelp(args) {
		return help(args, clientUsage, "client: missing subcommand add, rotate or revoke", stdout)
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("passline-cloud client "+sub, clientUsage, stderr)
	var nf natsFlags
	nf.register(fs)
	var spec token.ClientSpec
	var tier, scopes, stores, merchants string
	if sub == "add" {
		fs.StringVar(&spec.ID, "id", "", "client id")
		fs.StringVar(&tier, "tier", string(token.TierFree), "free or enterprise")
		fs.StringVar(&scopes, "scopes", "", "comma-separated scopes")
		fs.StringVar(&stores, "stores", "", "comma-separated stores")
		fs.StringVar(&merchants, "merchants", "", "comma-separated merchants")
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case sub != "add" && sub != "rotate" && sub != "revoke":
		return fmt.Errorf("client: unknown subcommand %q; want add, rotate or revoke", sub)
	case sub == "add" && len(pos) != 0:
		return fmt.Errorf("client add: unexpected argument %q (the id is -id)", pos[0])
	case sub != "add" && len(pos) != 1:
		return fmt.Errorf("client %s: want exactly one CLIENT_ID, got %d arguments", sub, len(pos))
	}
	spec.Tier, spec.Scopes, spec.Stores, spec.Merchants = token.Tier(tier), splitList(scopes), splitList(stores), splitList(merchants)
	if sub == "add" {
		if err := spec.Validate(); err != nil { // before connecting: bad input fails fast
			return fmt.Errorf("client add: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	nc, store, err := nf.open(ctx)
	if err != nil {
		return fmt.Errorf("client %s: %w", sub, err)
	}
	defer nc.Close()
	return clientAction(ctx, sub, store, spec, pos, stdout, stderr)
}

func clientAction(ctx context.Context, sub string, store token.ClientStore, spec token.ClientSpec, pos []string, stdout, stderr io.Writer) error {
	switch sub {
	case "add":
		c, secret, err := token.AddClient(ctx, store, spec)
		if err != nil {
			return fmt.Errorf("client add: %w", err)
		}
		fmt.Fprintf(stdout, "client_id: %s\nclient_secret: %s\n", c.ID, secret)
	case "rotate":
		secret, err := token.RotateClient(ctx, store, pos[0])
		if err != nil {
			return fmt.Errorf("client rotate: %w", err)
		}
		fmt.Fprintf(stdout, "client_id: %s\nclient_secret: %s\n", pos[0], secret)
	case "revoke":
		if err := token.RevokeClient(ctx, store, pos[0]); err != nil {
			return fmt.Errorf("client revoke: %w", err)
		}
		fmt.Fprintf(stdout, "client %s revoked\n", pos[0])
		return nil
	}
	fmt.Fprintln(stderr, "passline-cloud: the secret is shown only now; store it safely")
	return nil
}

// runStore is `passline-cloud store add STORE`.
func runStore(args []string, stdout, stderr io.Writer) error {
	if isHelp(args) {
		return help(args, storeUsage, "store: missing subcommand add", stdout)
	}
	sub, args := args[0], args[1:]
	if sub != "add" {
		return fmt.Errorf("store: unknown subcommand %q; want add", sub)
	}
	fs := newFlagSet("passline-cloud store add", storeUsage, stderr)
	trust := fs.String("trust", "/etc/passline/nats-trust.json", "trust file")
	return mintCreds(fs, trust, args, "store add", "STORE", natsauth.AddStore, stdout, "set the agent's nats.creds to it")
}

// mintCreds parses fs's [-out FILE] NAME from args, writes NAME's
// credentials under the trust file with add, and says where.
func mintCreds(fs *flag.FlagSet, trust *string, args []string, cmd, what string, add func(trust, name, out string) error, stdout io.Writer, next string) error {
	out := fs.String("out", "", "creds file to write (default "+what+".creds)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%s: want exactly one %s, got %d arguments", cmd, what, len(pos))
	}
	if *out == "" {
		*out = pos[0] + ".creds"
	}
	if err := add(*trust, pos[0], *out); err != nil {
		return fmt.Errorf("%s %s: %w", cmd, pos[0], err)
	}
	fmt.Fprintf(stdout, "wrote %s; %s\n", *out, next)
	return nil
}
