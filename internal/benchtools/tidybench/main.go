// Command tidybench moves the tidy memo between two checkouts the way CI
// carries it between runs, for scripts/bench-tidy.sh:
//
//	tidybench export MEMO_DIR > blob   # what a run saves with the cache
//	tidybench import MEMO_DIR LABEL < blob
//
// MEMO_DIR is the memo directory of `modhygiene tidy`
// ($XDG_CACHE_HOME/modhygiene/tidy-memo).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/modhygiene/modhygiene/internal/tidy"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tidybench:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: tidybench export MEMO_DIR | import MEMO_DIR LABEL")
	}
	memo, err := tidy.OpenMemo(args[1])
	if err != nil {
		return err
	}
	switch {
	case args[0] == "export" && len(args) == 2:
		blob, err := memo.MarshalEntries()
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(blob)
		return err
	case args[0] == "import" && len(args) == 3:
		blob, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		n, err := memo.Import(blob, args[2])
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "imported %d memo entries (%d bytes)\n", n, len(blob))
		return memo.Save()
	}
	return fmt.Errorf("unknown command %q", args)
}
