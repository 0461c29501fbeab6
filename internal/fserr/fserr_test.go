package fserr

import (
	"errors"
	"io/fs"
	"os"
	"testing"
)

func TestBare(t *testing.T) {
	_, err := os.Open("/nonexistent/.modhygiene-tidy-123")
	if got := Bare(err); !errors.Is(got, fs.ErrNotExist) || got.Error() != "no such file or directory" {
		t.Errorf("path error: %v", got)
	}
	err = os.Rename("/nonexistent/a", "/nonexistent/b")
	if got := Bare(err); got.Error() != "no such file or directory" {
		t.Errorf("link error: %v", got)
	}
	other := errors.New("other")
	if Bare(other) != other || Bare(nil) != nil {
		t.Error("other errors must pass as they are")
	}
}
