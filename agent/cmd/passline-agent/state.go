package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/config"
)

// state runs `state check` or `state salvage` on the state db: file, or
// state.db in the data_dir of the config at cfgPath.
func state(sub, cfgPath, file string, out io.Writer) error {
	if file == "" {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return err
		}
		file = filepath.Join(cfg.DataDir, "state.db")
	}
	switch sub {
	case "check":
		st, err := bolt.Check(file)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "state db %s is sound: %d open orders, %d outbox entries, %d history records, %d event ids, %d bytes\n",
			file, st.OpenOrders, st.Outbox, st.History, st.Seen, st.FileBytes)
		return err
	case "salvage":
		rep, err := bolt.Salvage(file, bolt.Options{})
		if err != nil {
			return err
		}
		return printSalvage(out, file, rep)
	}
	return fmt.Errorf("state: want check or salvage, got %q", sub)
}

func printSalvage(out io.Writer, file string, rep bolt.SalvageReport) error {
	fmt.Fprintf(out, "damaged state db moved to %s\nfresh state db %s holds:\n", rep.Aside, file)
	for _, kind := range []string{"orders", "outbox", "models", "history", "seen"} {
		fmt.Fprintf(out, "  %-8s %d\n", kind, rep.Copied[kind])
	}
	kinds := make([]string, 0, len(rep.Partial))
	for k := range rep.Partial {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(out, "  %s read only in part: %s\n", k, rep.Partial[k])
	}
	_, err := fmt.Fprintln(out, "check the fresh file with `passline-agent state check`, then start the agent")
	return err
}
