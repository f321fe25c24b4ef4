package mqtt

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/crypto/bcrypt"
)

// authHook decides who may connect to the embedded broker. No client may
// use the reserved client id (the agent's own session), on any listener.
// With users set, a client must give a username from it and the password
// whose bcrypt hash is stored there; without, any other client is let in
// (the agent refuses that configuration beyond loopback). Every client
// that is let in may publish and subscribe.
type authHook struct {
	mochi.HookBase
	users    map[string][]byte
	reserved string
	// localPass is the password of localUser, the agent's own clients.
	localPass string
	log       *slog.Logger
	refused   atomic.Int64
}

// localUser is the username of the agent's own clients (LocalCredentials).
const localUser = "passline-agent-local"

// localPassword is a random password for localUser.
func localPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

func (h *authHook) ID() string { return "passline-auth" }

func (h *authHook) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

// OnConnectAuthenticate implements the mochi hook.
func (h *authHook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	if h.reserved != "" && cl.ID == h.reserved {
		h.refuse(cl, "the client id is reserved for the agent")
		return false
	}
	if h.users == nil {
		return true
	}
	user := string(pk.Connect.Username)
	if user == localUser {
		if subtle.ConstantTimeCompare(pk.Connect.Password, []byte(h.localPass)) == 1 {
			return true
		}
		h.refuse(cl, "bad username or password")
		return false
	}
	hash, ok := h.users[user]
	if !ok || bcrypt.CompareHashAndPassword(hash, pk.Connect.Password) != nil {
		h.refuse(cl, "bad username or password")
		return false
	}
	return true
}

func (h *authHook) refuse(cl *mochi.Client, why string) {
	h.refused.Add(1)
	h.log.Warn("mqtt connection refused", "client_id", cl.ID, "username", string(cl.Properties.Username), "remote", cl.Net.Remote, "reason", why)
}

// OnACLCheck implements the mochi hook: a connected client may publish and
// subscribe.
func (h *authHook) OnACLCheck(*mochi.Client, string, bool) bool { return true }

// LoadPasswordFile reads the embedded broker's users: one
// "username:bcrypt-hash" per line (HashPassword writes one); blank lines
// and lines starting with # are skipped.
func LoadPasswordFile(path string) (map[string][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mqtt password file: %w", err)
	}
	users := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if _, err := bcrypt.Cost([]byte(hash)); !ok || user == "" || err != nil {
			return nil, fmt.Errorf("mqtt password file %s:%d: not username:bcrypt-hash", path, n)
		}
		users[user] = []byte(hash)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("mqtt password file %s: no users", path)
	}
	return users, nil
}

// HashPassword is a password file line for user: "user:bcrypt-hash".
func HashPassword(user, password string) (string, error) {
	if user == "" || strings.ContainsAny(user, ":\n") || password == "" {
		return "", fmt.Errorf("username must be non-empty without ':' and the password non-empty")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	return user + ":" + string(h), nil
}
