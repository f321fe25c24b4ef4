package natsauth

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/passline/passline/wire"
)

// BucketConfigStatus is the KV bucket where an agent reports, under its
// store's key, whether it applied its latest config and why not.
const BucketConfigStatus = wire.BucketConfigStatus

// ReservedStores are tokens that name relay namespaces under passline.
// (passline.rider.{rider}.notify.{key}, passline.dlq.{store}.decision,
// passline.outbox.{p}.{rider}.{key}, the readies waiting for their
// re-send passline.resend.{store}.ready, and the partition subjects
// passline.decision.{p}.{store} of every store); a store so named could
// publish into them, so MintStore refuses them.
var ReservedStores = []string{"rider", "dlq", "outbox", "resend", "relay", "config", "status", "decision"}

// InboxPrefix is the reply-subject prefix a store's connection must use
// (nats.CustomInboxPrefix); it is wire.StoreInboxPrefix. Store credentials
// may subscribe only below it.
func InboxPrefix(store string) string { return wire.StoreInboxPrefix(store) }

// StorePermissions is what a store's box may do: publish in its own
// namespace (passline.{store}.>) except rider assignments
// (passline.{store}.assign: those come from the delivery platform) and
// subscribe to it; look up the DECISIONS stream; read and watch only its
// own key of PASSLINE_CONFIG (direct get and filtered ordered consumers,
// which need the bucket's AllowDirect, the nats.go default); put only its
// own key of PASSLINE_CONFIG_STATUS; read and watch PASSLINE_MODEL_PRIOR;
// read (direct get) its own hours of PASSLINE_KPI_HOURS, for the pass
// board's rider wait; receive replies on its own inbox
// prefix. Everything else is refused by the server with a permissions
// violation: another store's subjects and keys, stream and consumer
// management, other inboxes. Stream info (of DECISIONS and the two
// buckets) is allowed because nats.go needs it to open a stream or
// bucket; it shows configuration and counts (with a subject filter, which
// subjects hold messages, so other store ids), never message contents.
// Deleting consumers of the config bucket's stream is allowed because
// stopping a watch deletes its ordered consumer, and a refused delete
// blocks the agent for the JetStream timeout (5 s) on every re-watch and
// at shutdown. The subject cannot name the key, so this is the one right
// over other stores: a store could delete another store's watch consumer
// if it knew its random name, which it cannot list; the victim's ordered
// consumer then recreates itself. No message is ever exposed.
func StorePermissions(store string) jwt.Permissions {
	cfgStream := "KV_" + wire.BucketConfig
	cfgKey := "$KV." + wire.BucketConfig + "." + store
	priorStream := "KV_" + wire.BucketModelPrior
	kpiStream := "KV_" + wire.BucketKPIHours
	var p jwt.Permissions
	p.Pub.Allow.Add(
		"passline."+store+".>",
		"$JS.API.STREAM.INFO."+wire.StreamDecisions,
		"$JS.API.STREAM.INFO."+cfgStream,
		"$JS.API.DIRECT.GET."+cfgStream+"."+cfgKey,
		"$JS.API.CONSUMER.CREATE."+cfgStream+".*."+cfgKey,
		"$JS.API.CONSUMER.DELETE."+cfgStream+".*",
		"$JS.FC."+cfgStream+".>",
		"$JS.API.STREAM.INFO.KV_"+BucketConfigStatus,
		"$KV."+BucketConfigStatus+"."+store,
		// Fleet priors are pooled over many stores and hold nothing of any
		// one store: a box may read and watch any category's.
		"$JS.API.STREAM.INFO."+priorStream,
		"$JS.API.DIRECT.GET."+priorStream+".>",
		"$JS.API.CONSUMER.CREATE."+priorStream+".>",
		"$JS.API.CONSUMER.DELETE."+priorStream+".*",
		"$JS.FC."+priorStream+".>",
		// Its own hours only: the key is {hour}.{store}.
		"$JS.API.STREAM.INFO."+kpiStream,
		"$JS.API.DIRECT.GET."+kpiStream+".$KV."+wire.BucketKPIHours+".*."+store,
	)
	p.Pub.Deny.Add(wire.AssignSubject(store))
	p.Sub.Allow.Add(InboxPrefix(store)+".>", "passline."+store+".>")
	return p
}

// RelayPermissions is what a relay replica may do: listen to every store's
// decisions (the ops page), use the JetStream API
// (it creates and consumes DECISIONS, its consumers and KV buckets), ack,
// read and write KV, publish rider notifications and assignments, its
// dead letters (passline.dlq.{store}.decision) and rider outbox
// (passline.outbox.{p}.{rider}.{decision key}), the readies that wait for
// their one re-send (passline.resend.{store}.ready), plus the extra subjects given. It may
// publish decisions too: it puts decisions that waited for their rider back
// on passline.{store}.decision when the assignment arrives.
func RelayPermissions(extraPub ...string) jwt.Permissions {
	var p jwt.Permissions
	p.Pub.Allow.Add("$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "$KV.>", wire.RiderWildcard, wire.SubjectAssignments, "_INBOX.>",
		"passline.dlq.*.decision", "passline.outbox.>", "passline.resend.*.ready")
	p.Pub.Allow.Add(extraPub...)
	p.Pub.Allow.Add(wire.SubjectDecisions)
	p.Sub.Allow.Add("_INBOX.>", wire.SubjectAssignments, wire.RiderWildcard, "$JS.EVENT.ADVISORY.>",
		wire.SubjectDecisions) // the ops page counts the stores it hears from
	return p
}

// RiderGatewayPermissions is what a rider app gateway may do: subscribe to
// rider notifications and nothing else; it may not publish at all.
func RiderGatewayPermissions() jwt.Permissions {
	var p jwt.Permissions
	p.Pub.Deny.Add(">")
	p.Sub.Allow.Add(wire.RiderWildcard)
	return p
}

// Issuer signs user credentials with the Passline account key.
type Issuer struct {
	account    nkeys.KeyPair
	accountPub string
	// TTL is how long minted credentials stay valid; 0 means they never
	// expire (a store box must then be cut off by a new Trust).
	TTL time.Duration
	// Now is the clock expiry is computed from; time.Now when nil.
	Now func() time.Time
}

// NewIssuer returns an issuer for the account whose seed is given;
// accountPub, when not empty, must be that seed's public key.
func NewIssuer(accountSeed []byte, accountPub string) (*Issuer, error) {
	kp, err := nkeys.FromSeed(accountSeed)
	if err != nil {
		return nil, fmt.Errorf("account seed: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil || !nkeys.IsValidPublicAccountKey(pub) {
		return nil, fmt.Errorf("account seed is not an account key")
	}
	if accountPub != "" && pub != accountPub {
		return nil, fmt.Errorf("account seed belongs to %s, not %s", pub, accountPub)
	}
	return &Issuer{account: kp, accountPub: pub}, nil
}

// MintStore returns a .creds file for store's box with StorePermissions.
// It is what `passline-cloud store add STORE` writes out.
func (i *Issuer) MintStore(store string) ([]byte, error) {
	if !wire.ValidToken(store) {
		return nil, fmt.Errorf("store %q is not a token (1-%d characters of A-Z a-z 0-9 _ -)", store, wire.MaxTokenLen)
	}
	if slices.Contains(ReservedStores, strings.ToLower(store)) {
		return nil, fmt.Errorf("store %q is reserved for a relay namespace; choose another id", store)
	}
	return i.mint("store-"+store, StorePermissions(store), "role:store", "store:"+store)
}

// MintRelay returns a .creds file for a relay replica with RelayPermissions.
func (i *Issuer) MintRelay(name string, extraPub ...string) ([]byte, error) {
	return i.mint("relay-"+name, RelayPermissions(extraPub...), "role:relay")
}

// MintRiderGateway returns a .creds file for a rider app gateway with
// RiderGatewayPermissions.
func (i *Issuer) MintRiderGateway(name string) ([]byte, error) {
	return i.mint("rider-gateway-"+name, RiderGatewayPermissions(), "role:rider-gateway")
}

func (i *Issuer) mint(name string, perms jwt.Permissions, tags ...string) ([]byte, error) {
	user, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("create user key: %w", err)
	}
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	uc := jwt.NewUserClaims(pub)
	uc.Name = name
	uc.Permissions = perms
	uc.Tags.Add(tags...)
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	uc.IssuedAt = now().Unix()
	if i.TTL > 0 {
		uc.Expires = now().Add(i.TTL).Unix()
	}
	token, err := uc.Encode(i.account)
	if err != nil {
		return nil, fmt.Errorf("sign user %s: %w", name, err)
	}
	creds, err := jwt.FormatUserConfig(token, seed)
	if err != nil {
		return nil, fmt.Errorf("format creds %s: %w", name, err)
	}
	return creds, nil
}
