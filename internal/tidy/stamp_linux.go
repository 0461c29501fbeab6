package tidy

import (
	"io/fs"
	"syscall"
)

// stampOf reads a file's stamp from its FileInfo.
func stampOf(info fs.FileInfo) stamp {
	st := stamp{size: info.Size(), mtime: info.ModTime().UnixNano()}
	if s, ok := info.Sys().(*syscall.Stat_t); ok {
		st.ctime = s.Ctim.Nano()
		st.ino, st.dev = s.Ino, s.Dev
	}
	return st
}
