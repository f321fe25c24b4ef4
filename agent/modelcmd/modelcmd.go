// Package modelcmd implements "passline-agent model": evaluate the
// prep-time model on a history CSV and warm-start a store from one.
package modelcmd

import (
	"context"
	"errors"
	"io"
)

// Run runs "passline-agent model ARGS...".
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("model: not built yet")
}
