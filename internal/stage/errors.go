package stage

import (
	"fmt"

	"github.com/modhygiene/modhygiene/internal/exitcode"
)

// Usagef returns a usage error (exit 2): a setting that cannot work.
func Usagef(format string, args ...any) error {
	return exitcode.UsageError(fmt.Errorf(format, args...))
}

// IsUsage reports whether err is a usage error.
func IsUsage(err error) bool { return exitcode.Of(err) == exitcode.Usage }
