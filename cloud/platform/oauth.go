package platform

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// tokenTimeout bounds one token request.
const tokenTimeout = 10 * time.Second

// clientTokens caches one OAuth 2 client-credentials token source per
// (token URL, client, secret, scopes), so a token is fetched once and
// reused until it expires, whatever the number of stores sharing it.
type clientTokens struct {
	style oauth2.AuthStyle

	mu      sync.Mutex
	sources map[[32]byte]oauth2.TokenSource
}

// bearer sets req's Authorization to a client-credentials access token.
func (t *clientTokens) bearer(client *http.Client, req *http.Request, tokenURL string, scopes []string, c Credentials) error {
	cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: tokenURL, Scopes: scopes, AuthStyle: t.style}
	key := sha256.Sum256([]byte(strings.Join(append([]string{tokenURL, c.ClientID, c.ClientSecret}, scopes...), "\x00")))
	t.mu.Lock()
	if t.sources == nil {
		t.sources = map[[32]byte]oauth2.TokenSource{}
	}
	src, ok := t.sources[key]
	if !ok {
		// The source keeps the context it was made with for every later
		// refresh: give it the client, bounded by its own timeout, not
		// the request's deadline.
		tc := *client
		tc.Timeout = tokenTimeout
		src = cfg.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, &tc))
		t.sources[key] = src
	}
	t.mu.Unlock()
	tok, err := src.Token()
	if err != nil {
		return fmt.Errorf("client credentials token from %s: %w", tokenURL, err)
	}
	tok.SetAuthHeader(req)
	return nil
}

// platformName gives an adapter its Platform and BaseURL.
type platformName struct{ name, base string }

// Platform is the platform's name, one of Names.
func (p platformName) Platform() string { return p.name }

// BaseURL is the platform's API root, used when the store's credentials
// name none; "" when every store names its own (Open Delivery).
func (p platformName) BaseURL() string { return p.base }

// clientCredentials authorizes calls with an OAuth 2 client-credentials
// bearer token: from the credentials' token URL, else the platform's
// (tokenURL), else {base URL}/oauth/token; for the credentials' scopes,
// else the platform's documented ones.
type clientCredentials struct {
	tokens   clientTokens
	tokenURL string
	scopes   []string
}

func newClientCredentials(style oauth2.AuthStyle, tokenURL string, scopes ...string) *clientCredentials {
	return &clientCredentials{tokens: clientTokens{style: style}, tokenURL: tokenURL, scopes: scopes}
}

// Authorize adds the bearer token.
func (o *clientCredentials) Authorize(_ context.Context, client *http.Client, req *http.Request, _ Call, c Credentials, _ time.Time) error {
	scopes := c.Scopes
	if len(scopes) == 0 {
		scopes = o.scopes
	}
	tokenURL := firstNonEmpty(c.TokenURL, o.tokenURL, strings.TrimRight(c.BaseURL, "/")+"/oauth/token")
	return o.tokens.bearer(client, req, tokenURL, scopes, c)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// getJSON GETs u, authorized by auth, and decodes a 200's JSON body into
// v; any other status is an error carrying the platform's reason.
func getJSON(ctx context.Context, client *http.Client, u string, auth func(*http.Request) error, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if err := auth(req); err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", req.URL.Path, resp.Status, Reason(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", req.URL.Path, err)
	}
	return nil
}
