package token_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/token"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func mustHS256(t testing.TB, clk *clock) *token.Authority {
	t.Helper()
	a, err := token.NewHS256(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	a.Now = clk.Now
	return a
}

func TestGrant(t *testing.T) {
	c := token.Client{Scopes: []string{token.ScopeOrdersRead, token.ScopeAssignmentsWrite, token.ScopeAnyRider}}
	tests := []struct {
		name      string
		requested []string
		want      []string
		err       string
	}{
		{"default is every scope but rider:*", nil, []string{"orders:read", "assignments:write"}, ""},
		{"subset", []string{"orders:read"}, []string{"orders:read"}, ""},
		{"concrete rider through rider:*", []string{"rider:r-1"}, []string{"rider:r-1"}, ""},
		{"duplicates collapse", []string{"orders:read", "orders:read"}, []string{"orders:read"}, ""},
		{"not granted", []string{"config:write"}, nil, "not granted"},
		{"wildcard never in a token", []string{"rider:*"}, nil, "unknown scope"},
		{"rider with dot", []string{"rider:a.b"}, nil, "unknown scope"},
		{"unknown", []string{"admin"}, nil, "unknown scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Grant(tt.requested)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("Grant = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestClientValidate(t *testing.T) {
	ok := token.Client{ID: "c1", Tier: token.TierFree, Scopes: []string{"orders:read"}, Stores: []string{"*"}}
	tests := []struct {
		name  string
		edit  func(*token.Client)
		field string
	}{
		{"ok", func(*token.Client) {}, ""},
		{"bad id", func(c *token.Client) { c.ID = "a.b" }, "id:"},
		{"bad tier", func(c *token.Client) { c.Tier = "gold" }, "tier:"},
		{"no scopes", func(c *token.Client) { c.Scopes = nil }, "scopes:"},
		{"bad scope", func(c *token.Client) { c.Scopes = []string{"root"} }, "scopes:"},
		{"bad store", func(c *token.Client) { c.Stores = []string{"a>"} }, "stores:"},
		{"bad merchant", func(c *token.Client) { c.Merchants = []string{""} }, "merchants:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if (err == nil) != (tt.field == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.field)) {
				t.Fatalf("Validate = %v, want field %q", err, tt.field)
			}
		})
	}
}

// stores returns a MemStore and natsjs.Clients on an embedded JetStream server.
func stores(t *testing.T) map[string]token.ClientStore {
	t.Helper()
	_, js := natsdtest.JetStream(t)
	kv, err := natsjs.SetupClients(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]token.ClientStore{"mem": token.NewMemStore(), "kv": kv}
}

func TestClientLifecycle(t *testing.T) {
	ctx := context.Background()
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			cs := &token.Clients{Store: store, Cost: bcrypt.MinCost}
			c, secret, err := cs.Add(ctx, token.ClientSpec{ID: "meituan", Tier: token.TierFree, Scopes: []string{token.ScopeOrdersRead}})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(c.SecretHash, secret) || !strings.HasPrefix(c.SecretHash, "$2") {
				t.Fatalf("secret not bcrypt-hashed: %q", c.SecretHash)
			}
			if _, _, err := cs.Add(ctx, token.ClientSpec{ID: "meituan", Tier: token.TierFree, Scopes: []string{token.ScopeOrdersRead}}); !errors.Is(err, token.ErrExists) {
				t.Fatalf("second add: %v, want ErrExists", err)
			}
			if _, err := cs.Authenticate(ctx, "meituan", secret); err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			for _, bad := range [][2]string{{"meituan", "wrong"}, {"nobody", secret}, {"meituan", ""}} {
				if _, err := cs.Authenticate(ctx, bad[0], bad[1]); !errors.Is(err, token.ErrBadCredentials) {
					t.Fatalf("authenticate %v: %v", bad, err)
				}
			}
			fresh, err := cs.Rotate(ctx, "meituan")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cs.Authenticate(ctx, "meituan", secret); !errors.Is(err, token.ErrBadCredentials) {
				t.Fatal("old secret still works after rotate")
			}
			if _, err := cs.Authenticate(ctx, "meituan", fresh); err != nil {
				t.Fatalf("new secret: %v", err)
			}
			if active, _ := cs.Active(ctx, "meituan"); !active {
				t.Fatal("client inactive before revoke")
			}
			if err := cs.Revoke(ctx, "meituan"); err != nil {
				t.Fatal(err)
			}
			if _, err := cs.Authenticate(ctx, "meituan", fresh); !errors.Is(err, token.ErrBadCredentials) {
				t.Fatal("revoked client authenticated")
			}
			if active, _ := cs.Active(ctx, "meituan"); active {
				t.Fatal("revoked client active")
			}
			if _, err := cs.Rotate(ctx, "meituan"); err == nil {
				t.Fatal("rotated a revoked client")
			}
			got, rev, err := store.Get(ctx, "meituan")
			if err != nil {
				t.Fatal(err)
			}
			if err := store.Put(ctx, got, rev); err != nil {
				t.Fatalf("put at current revision: %v", err)
			}
			if err := store.Put(ctx, got, rev); !errors.Is(err, token.ErrConflict) {
				t.Fatalf("put at stale revision: %v, want ErrConflict", err)
			}
			if err := cs.Revoke(ctx, "ghost"); !errors.Is(err, token.ErrNotFound) {
				t.Fatalf("revoke unknown: %v", err)
			}
		})
	}
}

func TestAddClientDefaults(t *testing.T) {
	c, secret, err := token.AddClient(context.Background(), token.NewMemStore(), token.ClientSpec{Tier: token.TierEnterprise, Scopes: []string{token.ScopeAnyRider}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.ID, "cl_") || len(secret) != 43 {
		t.Fatalf("id %q secret len %d", c.ID, len(secret))
	}
	if cost, _ := bcrypt.Cost([]byte(c.SecretHash)); cost != bcrypt.DefaultCost {
		t.Fatalf("cost %d", cost)
	}
}
