package proxy

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	modzip "golang.org/x/mod/zip"
)

// The checks below accept an answer only when it is complete and has the
// shape the go command expects, so that a truncated or garbled answer
// loses the race instead of failing the go command. Whether the content is
// the true content is for the checksum database to say (see share.go).

const metaLimit = 16 << 20 // .info, .mod, lists and checksum-database answers

// specFor returns how to read and check the answer to req.
func (s *Server) specFor(req request) *spec {
	switch req.kind {
	case kindZip:
		return &spec{spill: true, limit: modzip.MaxZipFile, check: func(a *answer) error { return checkZip(req, a) }}
	case kindMod:
		return &spec{limit: modzip.MaxGoMod, check: func(a *answer) error { return checkMod(a.data) }}
	case kindInfo, kindLatest:
		return &spec{limit: metaLimit, check: func(a *answer) error { return checkInfo(req, a.data) }}
	case kindList:
		return &spec{limit: metaLimit, check: func(a *answer) error { return checkList(a.data) }}
	}
	return &spec{limit: metaLimit, db: req.db, check: func(a *answer) error { return s.checkSumDB(req, a.data) }}
}

func checkInfo(req request, data []byte) error {
	var info struct {
		Version string
		Time    time.Time
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return fmt.Errorf("not a version .info: %v", err)
	}
	if !semver.IsValid(info.Version) {
		return fmt.Errorf(".info names an invalid version %q", info.Version)
	}
	if req.immutable && info.Version != req.version {
		return fmt.Errorf(".info names version %q, want %q", info.Version, req.version)
	}
	return nil
}

func checkMod(data []byte) error {
	if _, err := modfile.ParseLax("go.mod", data, nil); err != nil {
		return fmt.Errorf("not a go.mod file: %v", err)
	}
	return nil
}

func checkList(data []byte) error {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && !semver.IsValid(f[0]) {
			return fmt.Errorf("version list holds %q, not a version", f[0])
		}
	}
	return nil
}

// checkZip opens a module zip, in a's file or in memory, and checks that
// every file lies below path@version/ and that the sizes are within the go
// command's limits.
func checkZip(req request, a *answer) error {
	var files []*zip.File
	if a.file != "" {
		zr, err := zip.OpenReader(a.file)
		if err != nil {
			return fmt.Errorf("not a zip file: %v", err)
		}
		defer zr.Close()
		files = zr.File
	} else {
		zr, err := zip.NewReader(bytes.NewReader(a.data), int64(len(a.data)))
		if err != nil {
			return fmt.Errorf("not a zip file: %v", err)
		}
		files = zr.File
	}
	prefix := req.path + "@" + req.version + "/"
	var total uint64
	for _, f := range files {
		if !strings.HasPrefix(f.Name, prefix) {
			return fmt.Errorf("zip holds %q, outside %s", f.Name, prefix)
		}
		total += f.UncompressedSize64
	}
	if total > modzip.MaxZipFile {
		return errors.New("zip contents larger than the go command accepts")
	}
	return nil
}

// checkSumDB checks the shape of a checksum-database answer and, when the
// database's key is known, the signature of the tree head it carries.
func (s *Server) checkSumDB(req request, data []byte) error {
	switch {
	case req.dbPath == "supported":
		return nil
	case req.dbPath == "latest":
		return s.checkTreeNote(req.db, data)
	case strings.HasPrefix(req.dbPath, "lookup/"):
		_, _, msg, err := tlog.ParseRecord(data)
		if err != nil {
			return fmt.Errorf("not a checksum-database record: %v", err)
		}
		return s.checkTreeNote(req.db, msg)
	}
	t, err := tlog.ParseTilePath(req.dbPath)
	if err != nil {
		return err
	}
	if t.L >= 0 && len(data) != t.W*tlog.HashSize {
		return fmt.Errorf("tile of %d bytes, want %d", len(data), t.W*tlog.HashSize)
	}
	if t.L < 0 && len(data) == 0 {
		return errors.New("empty data tile")
	}
	return nil
}

func (s *Server) checkTreeNote(db string, msg []byte) error {
	if !bytes.HasPrefix(msg, []byte("go.sum database tree\n")) {
		return errors.New("not a signed tree head")
	}
	if s.db == nil || s.db.name != db || s.db.verifier == nil {
		return nil
	}
	if _, err := note.Open(msg, note.VerifierList(s.db.verifier)); err != nil {
		return fmt.Errorf("tree head: %v", err)
	}
	return nil
}
