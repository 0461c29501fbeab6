package report

import (
	"fmt"
	"io"
)

// Options configure the renderers made by New. The zero value renders plain
// text without colour.
type Options struct {
	// Color turns on ANSI colour in the text format.
	Color bool
	// ToolVersion is the version written into SARIF.
	ToolVersion string
}

// Formats lists the names New accepts.
var Formats = []string{"text", "json", "sarif", "codequality"}

// New returns the renderer for a format name, writing to w.
func New(format string, w io.Writer, opt Options) (Handler, error) {
	switch format {
	case "text", "":
		return NewColorTextHandler(w, opt.Color), nil
	case "json":
		return NewJSONHandler(w), nil
	case "sarif":
		return NewSARIFHandler(w, opt.ToolVersion), nil
	case "codequality":
		return NewCodeQualityHandler(w), nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %v)", format, Formats)
}
