package gocmd

import (
	"context"
	"encoding/json"
	"fmt"
)

// GoEnv returns the go command's view of the named variables (`go env -json
// NAMES...`), which includes the defaults the go command applies, such as its
// default GOPROXY and GOSUMDB.
func (r *Runner) GoEnv(ctx context.Context, dir string, names ...string) (map[string]string, error) {
	args := append([]string{"env", "-json"}, names...)
	res, err := r.Run(ctx, dir, args...)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal(res.Stdout, &m); err != nil {
		return nil, fmt.Errorf("go env -json: %w", err)
	}
	return m, nil
}
