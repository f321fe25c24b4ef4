package modelcmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"time"

	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/agent/predict"
)

// DefaultConfigPath is the agent config import reads when given neither
// --db nor --config.
const DefaultConfigPath = "/etc/passline/agent.yaml"

// ModelSaver stores a store's serialised model where the agent loads it.
type ModelSaver interface {
	SaveModel(store string, model []byte) error
}

var _ ModelSaver = BoltSaver{}

// BoltSaver saves models in the agent's state db (bucket "model", key =
// store id), each in its own committed transaction.
type BoltSaver struct{ DB *bolt.DB }

// SaveModel implements ModelSaver.
func (s BoltSaver) SaveModel(store string, model []byte) error {
	return s.DB.Update(func(tx *bolt.Tx) error { return tx.SaveModel(store, model) })
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	history := fs.String("history", "", "history CSV to learn (required; .gz accepted)")
	dbPath := fs.String("db", "", "state db to save models in (default: data_dir/state.db of --config)")
	cfgPath := fs.String("config", "", "agent config; gives the state db and, unless --store is set, the store (default "+DefaultConfigPath+" when --db is not set)")
	store := fs.String("store", "", "only this store's rows (default: the config's store, else every store in the file)")
	lock := fs.Duration("lock-timeout", 3*time.Second, "how long to wait for the state db lock (stop the agent first)")
	if help, err := parseFlags(fs, args, "passline-agent model import --history FILE.csv [--db STATE.db | --config agent.yaml] [--store S]\n\n"+
		"Learns the history, store by store, and saves each store's model in the state db,\n"+
		"replacing what it held. Stop the agent first: the state db is locked while it runs.", stdout); help || err != nil {
		return err
	}
	if *history == "" {
		return fmt.Errorf("model import: --history is required")
	}
	if *dbPath == "" && *cfgPath == "" {
		*cfgPath = DefaultConfigPath
	}
	if *cfgPath != "" {
		c, err := config.Load(*cfgPath)
		if err != nil {
			return fmt.Errorf("model import: %w", err)
		}
		if *dbPath == "" {
			*dbPath = filepath.Join(c.DataDir, "state.db")
		}
		if *store == "" {
			*store = c.Store
		}
	}
	h, err := loadHistory(*history, stderr)
	if err != nil {
		return err
	}
	if *store != "" {
		h.Rows = keepStores(h.Rows, *store)
	}
	if len(h.Rows) == 0 {
		return fmt.Errorf("model import: %s has no usable rows%s", *history, storeNote(*store))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	db, err := bolt.Open(*dbPath, bolt.Options{Timeout: *lock})
	if err != nil {
		return fmt.Errorf("model import: %w", err)
	}
	defer db.Close()
	return importModels(h, BoltSaver{DB: db}, stdout)
}

func storeNote(store string) string {
	if store == "" {
		return ""
	}
	return " for store " + store
}

// importModels learns h store by store, through the same replay as eval,
// and saves each store's model.
func importModels(h *History, s ModelSaver, stdout io.Writer) error {
	rp := predict.NewReplay(nil)
	rp.Run(h.Rows, predict.Hooks{})
	stores := make([]string, 0, len(rp.Models))
	for st := range rp.Models {
		stores = append(stores, st)
	}
	sort.Strings(stores)
	for _, st := range stores {
		m := rp.Models[st]
		b, err := m.MarshalBinary()
		if err != nil {
			return fmt.Errorf("model import: encode model of %s: %w", st, err)
		}
		if err := s.SaveModel(st, b); err != nil {
			return fmt.Errorf("model import: save model of %s: %w", st, err)
		}
		fmt.Fprintf(stdout, "store %s: learned %d orders, median prep of a 1-item order now %s; model saved\n",
			st, m.Learned(), oneItem(m).Round(time.Second))
	}
	return nil
}

func oneItem(m *predict.Model) time.Duration {
	f := predict.Features{Items: 1, Distinct: 1, At: time.Now()}
	p := m.Predict(&f)
	return p.Median()
}

// Warm learns store's rows of the history CSV at path through the same
// replay as import and saves the store's model with s; report gets the
// line import prints. The agent calls it at start when its state db holds
// no model for the store yet (config model.warm_history), so a new box (or
// the demo) predicts in the right range from its first order.
func Warm(path, store string, s ModelSaver, report io.Writer) error {
	h, err := loadHistory(path, report)
	if err != nil {
		return fmt.Errorf("warm model: %w", err)
	}
	h.Rows = keepStores(h.Rows, store)
	if len(h.Rows) == 0 {
		return fmt.Errorf("warm model: %s has no usable rows%s", path, storeNote(store))
	}
	return importModels(h, s, report)
}
