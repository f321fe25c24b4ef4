// Package token is the relay's OAuth 2 client-credentials authority: API
// clients with bcrypt-hashed secrets kept behind a ClientStore (JetStream KV
// in production, memory in tests), signed JWT access tokens valid two
// hours, their verification with a reason for every refusal, and the
// POST /oauth/token handler.
package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/passline/passline/wire"
)

// Tier is a client's commercial tier; it selects its API rate limits.
type Tier string

// Tiers of the product sheet.
const (
	TierFree       Tier = "free"
	TierEnterprise Tier = "enterprise"
)

// Valid reports whether t is a known tier.
func (t Tier) Valid() bool { return t == TierFree || t == TierEnterprise }

// Scopes a token may carry.
const (
	ScopeOrdersRead       = "orders:read"
	ScopeAssignmentsWrite = "assignments:write"
	ScopeTemplatesWrite   = "templates:write"
	ScopeConfigWrite      = "config:write"
	// ScopePlatformWrite sets a store's delivery-platform credentials.
	ScopePlatformWrite = "platform:write"
	// ScopeOpsRead opens the operations page, its summary and its stream
	// (every store's activity and the delivery channels' states).
	ScopeOpsRead = "ops:read"
	// ScopeAnyRider, granted to a client, lets it request rider:{id} for
	// any rider; it never appears in a token.
	ScopeAnyRider = "rider:*"
)

// RiderScope is the scope that opens rider's event stream: rider:{rider}.
func RiderScope(rider string) string { return "rider:" + rider }

// ValidScope reports whether s is a scope a token may carry.
func ValidScope(s string) bool {
	switch s {
	case ScopeOrdersRead, ScopeAssignmentsWrite, ScopeTemplatesWrite, ScopeConfigWrite, ScopePlatformWrite, ScopeOpsRead:
		return true
	}
	rider, ok := strings.CutPrefix(s, "rider:")
	return ok && wire.ValidToken(rider)
}

// Client is an API client. SecretHash is a bcrypt hash; the secret itself
// is shown once, when it is made, and never stored.
type Client struct {
	ID         string    `json:"id"`
	SecretHash string    `json:"secret_hash"`
	Tier       Tier      `json:"tier"`
	Scopes     []string  `json:"scopes"`              // scopes it may request; rider:* allowed
	Stores     []string  `json:"stores,omitempty"`    // stores it may touch; "*" is all
	Merchants  []string  `json:"merchants,omitempty"` // merchants it may touch; "*" is all
	Created    time.Time `json:"created"`
	Rotated    time.Time `json:"rotated,omitzero"`
	Revoked    time.Time `json:"revoked,omitzero"` // non-zero: refused everywhere
}

// Validate checks the client's fields; the error names the field.
func (c *Client) Validate() error {
	if !wire.ValidToken(c.ID) {
		return fmt.Errorf("id: %q is not 1-%d characters of A-Z a-z 0-9 _ -", c.ID, wire.MaxTokenLen)
	}
	if !c.Tier.Valid() {
		return fmt.Errorf("tier: %q is not free or enterprise", c.Tier)
	}
	if len(c.Scopes) == 0 {
		return errors.New("scopes: a client needs at least one scope")
	}
	for _, s := range c.Scopes {
		if s != ScopeAnyRider && !ValidScope(s) {
			return fmt.Errorf("scopes: unknown scope %q", s)
		}
	}
	for _, list := range []struct {
		name string
		ids  []string
	}{{"stores", c.Stores}, {"merchants", c.Merchants}} {
		for _, id := range list.ids {
			if id != "*" && !wire.ValidToken(id) {
				return fmt.Errorf("%s: %q is not a token or *", list.name, id)
			}
		}
	}
	return nil
}

// Grant returns the scopes a token for c carries when requested is asked
// for (empty: every scope c has, without rider:*). It fails when a
// requested scope is unknown or not granted to c.
func (c *Client) Grant(requested []string) ([]string, error) {
	if len(requested) == 0 {
		out := slices.DeleteFunc(slices.Clone(c.Scopes), func(s string) bool { return s == ScopeAnyRider })
		if len(out) == 0 {
			return nil, errors.New("client may only request rider:{id} scopes; name one")
		}
		return out, nil
	}
	var out []string
	for _, s := range requested {
		if !ValidScope(s) {
			return nil, fmt.Errorf("unknown scope %q", s)
		}
		granted := slices.Contains(c.Scopes, s) || (strings.HasPrefix(s, "rider:") && slices.Contains(c.Scopes, ScopeAnyRider))
		if !granted {
			return nil, fmt.Errorf("scope %q is not granted to this client", s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Errors of a ClientStore.
var (
	ErrNotFound = errors.New("client not found")
	ErrExists   = errors.New("client already exists")
	ErrConflict = errors.New("client changed concurrently")
)

// ClientStore keeps clients. Revision is the store's version of a client:
// Put with revision 0 creates (ErrExists if present), otherwise it updates
// only if the stored revision still matches (ErrConflict if not).
type ClientStore interface {
	Get(ctx context.Context, id string) (c Client, revision uint64, err error)
	Put(ctx context.Context, c Client, revision uint64) error
}
