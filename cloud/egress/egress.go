// Package egress guards the cloud's outbound connections to addresses
// that someone other than the operator chose (merchants' webhook URLs,
// delivery platforms' callback URLs) against server-side request forgery.
//
// A Guard refuses to connect to loopback, link-local (169.254.0.0/16, where
// cloud metadata services answer, and fe80::/10), private (RFC 1918,
// fc00::/7), shared (100.64.0.0/10), unspecified, multicast and other
// special-purpose addresses, unless the operator allows them explicitly.
// The check runs at dial time on the address actually being connected to,
// after name resolution (a net.Dialer Control func), so a name that
// resolves to a public address when a URL is checked and to 127.0.0.1
// when it is used (DNS rebinding) is still refused. Redirects are not
// followed by Client, and proxies from the environment are not used: a
// proxy would make the guard check the proxy instead of the destination.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Config is the operator's allow-list, the "egress" section of the cloud
// config.
type Config struct {
	// Allow lists what the guard lets through although it is not public:
	// CIDRs ("10.20.0.0/16"), single addresses ("127.0.0.1", "::1") or
	// host names ("hooks.internal", matched exactly, case-insensitive,
	// before resolution; whatever such a name resolves to is trusted).
	Allow []string `yaml:"allow"`
}

// Validate checks every entry; prefix names the section (e.g. "egress").
func (c Config) Validate(prefix string) error {
	_, err := New(c)
	if err != nil {
		return fmt.Errorf("%s.%w", prefix, err)
	}
	return nil
}

// ErrForbidden is wrapped by every refusal of the guard.
var ErrForbidden = errors.New("egress: destination not allowed")

// Guard decides which destinations outbound connections may reach. The
// zero Guard allows only public addresses. It is safe for concurrent use.
type Guard struct {
	prefixes []netip.Prefix
	hosts    []string
}

// New returns the Guard of c, or an error naming the bad entry.
func New(c Config) (*Guard, error) {
	g := &Guard{}
	for i, s := range c.Allow {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return nil, fmt.Errorf("allow[%d]: empty", i)
		case strings.Contains(s, "/"):
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("allow[%d]: %q is not a CIDR: %w", i, s, err)
			}
			g.prefixes = append(g.prefixes, p.Masked())
		default:
			if a, err := netip.ParseAddr(s); err == nil {
				g.prefixes = append(g.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			if !validHost(s) {
				return nil, fmt.Errorf("allow[%d]: %q is not a CIDR, an address or a host name", i, s)
			}
			g.hosts = append(g.hosts, strings.ToLower(strings.TrimSuffix(s, ".")))
		}
	}
	return g, nil
}

func validHost(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// blocked are the special-purpose ranges netip's predicates do not name.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier NAT; Alibaba Cloud's metadata at 100.100.100.200)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: reaches IPv4 addresses, private ones included
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds any IPv4 address
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT)
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// Public reports whether a is an ordinary public unicast address: not
// loopback, link-local, private, shared, unspecified, multicast or
// another special-purpose range.
func Public(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if !a.IsValid() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsPrivate() || a.IsUnspecified() {
		return false
	}
	return !slices.ContainsFunc(blocked, func(p netip.Prefix) bool { return p.Contains(a) })
}

// CheckAddr returns nil when a may be connected to: a public address, or
// one inside an allowed CIDR. Otherwise an error wrapping ErrForbidden.
func (g *Guard) CheckAddr(a netip.Addr) error {
	a = a.Unmap().WithZone("")
	if Public(a) || slices.ContainsFunc(g.prefixes, func(p netip.Prefix) bool { return p.Contains(a) }) {
		return nil
	}
	return fmt.Errorf("%w: %s is not a public address; allow it in egress.allow if it is meant", ErrForbidden, a)
}

// AllowsHost reports whether host (a name, without port) is on the
// allow-list by name.
func (g *Guard) AllowsHost(host string) bool {
	return slices.Contains(g.hosts, strings.ToLower(strings.TrimSuffix(host, ".")))
}

// CheckHost checks a destination before any connection: a literal address
// is checked as CheckAddr does; a name passes here (it is checked at dial
// time, on each address it resolves to). For config validation, so an
// obviously refused URL is reported at start rather than at delivery.
func (g *Guard) CheckHost(host string) error {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return g.CheckAddr(a)
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") && !g.AllowsHost(host) {
		return fmt.Errorf("%w: localhost; allow 127.0.0.1 in egress.allow if it is meant", ErrForbidden)
	}
	return nil
}

// Control is a net.Dialer Control func: it runs after resolution on the
// address about to be connected to and refuses any the guard does not
// allow, so no connection is made.
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dial address %q: %v", ErrForbidden, address, err)
	}
	return g.CheckAddr(ap.Addr())
}

// DialContext connects like a net.Dialer with timeout, refusing any
// destination the guard does not allow. A host name on the allow-list is
// dialled without the address check.
func (g *Guard) DialContext(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	checked := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: g.Control}
	trusted := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, err := net.SplitHostPort(addr); err == nil && g.AllowsHost(host) {
			return trusted.DialContext(ctx, network, addr)
		}
		return checked.DialContext(ctx, network, addr)
	}
}

// Transport is an http.Transport that dials through the guard and uses no
// proxy.
func (g *Guard) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = g.DialContext(10 * time.Second)
	return t
}

// Client is an http.Client on Transport that never follows redirects (a
// redirect is the receiver's answer, not a second destination to trust).
func (g *Guard) Client() *http.Client {
	return &http.Client{
		Transport:     g.Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
