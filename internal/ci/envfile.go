package ci

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// EnvFile appends NAME=VALUE entries to one of the GitHub runner's
// environment files (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE): each value is
// written as a heredoc with a fresh random delimiter, and a value that
// contains its delimiter is refused, so no value can end its heredoc early
// and inject a variable of its own.
type EnvFile struct {
	// W receives the entries; the runner's files are opened for appending.
	W io.Writer
	// Rand is the source of delimiters; nil means crypto/rand.
	Rand io.Reader
}

// ErrDelimiterInValue is returned when a value contains its delimiter.
var ErrDelimiterInValue = errors.New("value contains the heredoc delimiter")

// Set writes name=value.
func (e *EnvFile) Set(name, value string) error {
	if name == "" || strings.ContainsAny(name, "=\r\n") || strings.Contains(name, "<<") {
		return fmt.Errorf("env file: invalid name %q", name)
	}
	r := e.Rand
	if r == nil {
		r = rand.Reader
	}
	var buf [16]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return fmt.Errorf("env file: delimiter: %w", err)
	}
	delim := "ghadelimiter_" + hex.EncodeToString(buf[:])
	if strings.Contains(name, delim) || strings.Contains(value, delim) {
		return fmt.Errorf("env file: %s: %w", name, ErrDelimiterInValue)
	}
	_, err := fmt.Fprintf(e.W, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	return err
}

// SetAll writes every entry of m, in name order.
func (e *EnvFile) SetAll(m map[string]string) error {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := e.Set(k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

// ParseEnvFile reads an environment file as the GitHub runner does and
// returns its entries in order (a later entry with the same name wins when
// they are put in a map). A line is either NAME=VALUE (when '=' comes before
// any "<<") or NAME<<DELIMITER, followed by the value's lines up to a line
// that is exactly DELIMITER; empty lines between entries are skipped. Lines
// end with LF or CRLF.
func ParseEnvFile(data string) ([][2]string, error) {
	lines := strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	var out [][2]string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq := strings.Index(line, "=")
		hd := strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			name := line[:eq]
			if name == "" {
				return nil, fmt.Errorf("line %d: invalid format %q: name must not be empty", i+1, line)
			}
			out = append(out, [2]string{name, line[eq+1:]})
		case hd >= 0:
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				return nil, fmt.Errorf("line %d: invalid format %q: name and delimiter must not be empty", i+1, line)
			}
			var val []string
			found := false
			for i++; i < len(lines); i++ {
				if lines[i] == delim {
					found = true
					break
				}
				val = append(val, lines[i])
			}
			if !found {
				return nil, fmt.Errorf("invalid value: matching delimiter not found %q", delim)
			}
			out = append(out, [2]string{name, strings.Join(val, "\n")})
		default:
			return nil, fmt.Errorf("line %d: invalid format %q", i+1, line)
		}
	}
	return out, nil
}
