// Package testenv helps tests run the go command hermetically.
package testenv

import (
	"os"
	"path/filepath"
)

// HomeVars prepares home as the home directory of go commands started by a
// test and returns the variables that point them at it (HOME and
// XDG_CONFIG_HOME). The go command's telemetry is switched off there: with
// it on, the go command writes counter files under the configuration
// directory after it exits, which races with the removal of a test's
// temporary directory ("directory not empty"). Setting GOTELEMETRY in the
// environment does not switch it off; the mode file does.
func HomeVars(home string) ([]string, error) {
	config := filepath.Join(home, ".config")
	dir := filepath.Join(config, "go", "telemetry")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "mode"), []byte("off"), 0o644); err != nil {
		return nil, err
	}
	return []string{"HOME=" + home, "XDG_CONFIG_HOME=" + config}, nil
}
