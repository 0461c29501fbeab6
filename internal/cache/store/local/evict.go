package local

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// evict removes the entries used least recently until the rest fit in
// the size budget, keeping keep (the entry just written); and temporary
// files that writers killed more than an hour ago left behind.
func (s *Store) evict(keep string) {
	limit := s.MaxBytes
	if limit == 0 {
		limit = DefaultMaxBytes
	}
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return
	}
	type entry struct {
		name string
		size int64
		used time.Time
	}
	var all []entry
	var total int64
	for _, d := range ents {
		fi, err := d.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			if time.Since(fi.ModTime()) > time.Hour {
				os.Remove(filepath.Join(s.Dir, d.Name()))
			}
			continue
		}
		if store.CheckKey(d.Name()) != nil {
			continue
		}
		all = append(all, entry{d.Name(), fi.Size(), accessTime(fi)})
		total += fi.Size()
	}
	if limit < 0 || total <= limit {
		return
	}
	sort.Slice(all, func(i, j int) bool { return all[i].used.Before(all[j].used) })
	for _, e := range all {
		if total <= limit {
			break
		}
		if e.name == keep {
			continue
		}
		if err := os.Remove(filepath.Join(s.Dir, e.name)); err == nil || os.IsNotExist(err) {
			total -= e.size
		}
	}
}
