package natsauth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
)

// InitTrust creates a new Trust named name and saves it at path; it
// refuses to overwrite an existing file, since replacing the trust cuts
// off every store minted under the old one. It is what a
// `passline-cloud nats init` subcommand calls; print t.ServerConfig() for
// the NATS servers.
func InitTrust(path, name string) (*Trust, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("nats trust %s exists; refusing to replace it", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("nats trust %s: %w", path, err)
	}
	t, err := NewTrust(name)
	if err != nil {
		return nil, err
	}
	if err := t.Save(path); err != nil {
		return nil, err
	}
	return t, nil
}

// AddStore mints store's credentials under the trust saved at trustPath
// and writes them to outPath with mode 0600, refusing to overwrite. It is
// what `passline-cloud store add STORE` calls; copy the file to the
// store's box and point the agent's nats.creds at it.
func AddStore(trustPath, store, outPath string) error {
	return mintFile(trustPath, outPath, func(iss *Issuer) ([]byte, error) { return iss.MintStore(store) })
}

// AddRelay mints relay credentials named name (RelayPermissions) under the
// trust saved at trustPath and writes them to outPath like AddStore. It is
// what `passline-cloud nats relay NAME` calls: a relay replica's
// nats.creds, or -creds of the admin commands.
func AddRelay(trustPath, name, outPath string) error {
	return mintFile(trustPath, outPath, func(iss *Issuer) ([]byte, error) { return iss.MintRelay(name) })
}

func mintFile(trustPath, outPath string, mint func(*Issuer) ([]byte, error)) error {
	t, err := LoadTrust(trustPath)
	if err != nil {
		return err
	}
	iss, err := t.Issuer()
	if err != nil {
		return err
	}
	creds, err := mint(iss)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write creds: %w", err)
	}
	if _, err := f.Write(creds); err != nil {
		f.Close()
		return fmt.Errorf("write creds %s: %w", outPath, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write creds %s: %w", outPath, err)
	}
	return nil
}

// UserOption is the nats.Connect option that authenticates with creds (the
// bytes of a .creds file, as Mint* return them) without writing them to a
// file.
func UserOption(creds []byte) (nats.Option, error) {
	token, err := jwt.ParseDecoratedJWT(creds)
	if err != nil {
		return nil, fmt.Errorf("creds jwt: %w", err)
	}
	kp, err := jwt.ParseDecoratedNKey(creds)
	if err != nil {
		return nil, fmt.Errorf("creds seed: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, fmt.Errorf("creds seed: %w", err)
	}
	return nats.UserJWTAndSeed(token, string(seed)), nil
}
