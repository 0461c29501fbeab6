//go:build !linux && !darwin

package tidy

import "io/fs"

// stampOf reads a file's stamp from its FileInfo: size and modification
// time only on this system.
func stampOf(info fs.FileInfo) stamp {
	return stamp{size: info.Size(), mtime: info.ModTime().UnixNano()}
}
