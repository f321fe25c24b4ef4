// Package natsauth mints NATS credentials for Passline's roles: a store box,
// a relay replica and a rider gateway. It uses NATS decentralized auth: an
// operator signs one Passline account (where DECISIONS and the KV buckets
// live) and a system account; the account key signs user JWTs whose
// permissions say exactly what each role may publish and subscribe. The
// server needs only the operator and account JWTs (Trust.Configure or
// Trust.ServerConfig), so adding a store never restarts or reloads NATS.
//
// A store's credentials allow publishing only on passline.{store}.>,
// reading only its own key of the PASSLINE_CONFIG bucket and writing only
// its own key of the PASSLINE_CONFIG_STATUS bucket. Replies reach a store
// on its own inbox prefix (InboxPrefix), so a store cannot overhear another
// tenant's replies: a store's NATS connection MUST be made with
// nats.CustomInboxPrefix(wire.StoreInboxPrefix(store)), or every request it
// makes (JetStream publish acks included) times out.
package natsauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// Trust is the operator, system account and Passline account that every
// Passline NATS user is signed under. The seeds are secrets: whoever holds
// AccountSeed can mint any user, whoever holds OperatorSeed can mint
// accounts. Keep the file written by Save readable by root only.
type Trust struct {
	OperatorJWT      string `json:"operator_jwt"`
	OperatorSeed     string `json:"operator_seed"`
	SystemAccountJWT string `json:"system_account_jwt"`
	SystemAccountPub string `json:"system_account"`
	AccountJWT       string `json:"account_jwt"`
	AccountPub       string `json:"account"`
	AccountSeed      string `json:"account_seed"`
}

// NewTrust generates a fresh operator named name, a system account and the
// Passline account with unlimited JetStream. Users minted under an older
// Trust are not accepted by a server configured with a new one.
func NewTrust(name string) (*Trust, error) {
	op, err := nkeys.CreateOperator()
	if err != nil {
		return nil, fmt.Errorf("create operator key: %w", err)
	}
	opPub, _ := op.PublicKey()
	opSeed, _ := op.Seed()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = name
	t := &Trust{OperatorSeed: string(opSeed)}
	if t.SystemAccountPub, t.SystemAccountJWT, _, err = newAccount(op, "SYS", false); err != nil {
		return nil, err
	}
	var accSeed []byte
	if t.AccountPub, t.AccountJWT, accSeed, err = newAccount(op, "PASSLINE", true); err != nil {
		return nil, err
	}
	t.AccountSeed = string(accSeed)
	oc.SystemAccount = t.SystemAccountPub
	if t.OperatorJWT, err = oc.Encode(op); err != nil {
		return nil, fmt.Errorf("sign operator: %w", err)
	}
	return t, nil
}

func newAccount(op nkeys.KeyPair, name string, jetstream bool) (pub, token string, seed []byte, err error) {
	kp, err := nkeys.CreateAccount()
	if err != nil {
		return "", "", nil, fmt.Errorf("create account key %s: %w", name, err)
	}
	pub, _ = kp.PublicKey()
	seed, _ = kp.Seed()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	if jetstream {
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	}
	if token, err = ac.Encode(op); err != nil {
		return "", "", nil, fmt.Errorf("sign account %s: %w", name, err)
	}
	return pub, token, seed, nil
}

// Configure makes opts an operator-mode server that trusts t: it sets the
// trusted operator, the system account and an in-memory resolver preloaded
// with both account JWTs. Other options (ports, JetStream) are untouched.
func (t *Trust) Configure(opts *server.Options) error {
	oc, err := jwt.DecodeOperatorClaims(t.OperatorJWT)
	if err != nil {
		return fmt.Errorf("operator jwt: %w", err)
	}
	res := &server.MemAccResolver{}
	for pub, tok := range map[string]string{t.SystemAccountPub: t.SystemAccountJWT, t.AccountPub: t.AccountJWT} {
		if err := res.Store(pub, tok); err != nil {
			return fmt.Errorf("preload account %s: %w", pub, err)
		}
	}
	opts.TrustedOperators = []*jwt.OperatorClaims{oc}
	opts.SystemAccount = t.SystemAccountPub
	opts.AccountResolver = res
	return nil
}

// ServerConfig is the nats-server configuration block that trusts t, for a
// real server or cluster: include it in nats-server.conf.
func (t *Trust) ServerConfig() string {
	var b strings.Builder
	fmt.Fprintf(&b, "operator: %q\n", t.OperatorJWT)
	fmt.Fprintf(&b, "system_account: %s\n", t.SystemAccountPub)
	b.WriteString("resolver: MEMORY\nresolver_preload: {\n")
	fmt.Fprintf(&b, "  %s: %q\n", t.SystemAccountPub, t.SystemAccountJWT)
	fmt.Fprintf(&b, "  %s: %q\n", t.AccountPub, t.AccountJWT)
	b.WriteString("}\n")
	return b.String()
}

// Issuer returns the issuer that signs users with the Passline account key.
func (t *Trust) Issuer() (*Issuer, error) { return NewIssuer([]byte(t.AccountSeed), t.AccountPub) }

// Save writes t as JSON to path with mode 0600.
func (t *Trust) Save(path string) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write nats trust %s: %w", path, err)
	}
	return nil
}

// LoadTrust reads a Trust written by Save and checks that its keys and JWTs
// belong together.
func LoadTrust(path string) (*Trust, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read nats trust %s: %w", path, err)
	}
	var t Trust
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("nats trust %s: %w", path, err)
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("nats trust %s: %w", path, err)
	}
	return &t, nil
}

func (t *Trust) check() error {
	kp, err := nkeys.FromSeed([]byte(t.AccountSeed))
	if err != nil {
		return fmt.Errorf("account_seed: %w", err)
	}
	if pub, _ := kp.PublicKey(); pub != t.AccountPub {
		return errors.New("account_seed does not belong to account")
	}
	ac, err := jwt.DecodeAccountClaims(t.AccountJWT)
	if err != nil {
		return fmt.Errorf("account_jwt: %w", err)
	}
	if ac.Subject != t.AccountPub {
		return errors.New("account_jwt is not the account's")
	}
	if _, err := jwt.DecodeOperatorClaims(t.OperatorJWT); err != nil {
		return fmt.Errorf("operator_jwt: %w", err)
	}
	return nil
}
