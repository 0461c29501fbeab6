package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// message is one object of the JSON stream; exactly one field is set.
type message struct {
	Header  *Header          `json:"header,omitempty"`
	Stage   *Stage           `json:"stage,omitempty"`
	Finding *finding.Finding `json:"finding,omitempty"`
}

// JSONHandler writes the canonical JSON stream: one object per line, each
// with exactly one of the keys "header", "stage" or "finding".
type JSONHandler struct {
	enc *json.Encoder
}

var _ Handler = (*JSONHandler)(nil)

// NewJSONHandler returns a handler that writes the stream to w.
func NewJSONHandler(w io.Writer) *JSONHandler {
	enc := json.NewEncoder(jsonWriter{w})
	enc.SetEscapeHTML(false)
	return &JSONHandler{enc: enc}
}

// Header writes the header object.
func (h *JSONHandler) Header(x *Header) error { return h.enc.Encode(message{Header: x}) }

// Stage writes a stage object.
func (h *JSONHandler) Stage(x *Stage) error { return h.enc.Encode(message{Stage: x}) }

// Finding writes a finding object.
func (h *JSONHandler) Finding(x *finding.Finding) error { return h.enc.Encode(message{Finding: x}) }

// ReadJSON reads a JSON stream written by JSONHandler into a Run. It refuses
// a stream of a newer protocol than this build understands.
func ReadJSON(r io.Reader) (*Run, error) {
	dec := json.NewDecoder(r)
	run := &Run{}
	sawHeader := false
	for n := 1; ; n++ {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", n, err)
		}
		switch {
		case m.Header != nil:
			if m.Header.Protocol > Protocol {
				return nil, fmt.Errorf("stream protocol %d is newer than this modhygiene understands (%d); upgrade modhygiene", m.Header.Protocol, Protocol)
			}
			run.Header, sawHeader = *m.Header, true
		case m.Stage != nil:
			run.Stages = append(run.Stages, *m.Stage)
		case m.Finding != nil:
			run.Findings = append(run.Findings, *m.Finding)
		default:
			return nil, fmt.Errorf("object %d: want one of header, stage, finding", n)
		}
	}
	if !sawHeader {
		return nil, errors.New("not a modhygiene JSON stream: no header object")
	}
	return run, nil
}

// jsonWriter passes encoded JSON on with every "##[" written as "##\u005b":
// the same JSON value, but no line that the GitHub runner would take for a
// workflow command in the old syntax when the output reaches a step's log.
// In JSON "##[" can only occur inside a string, so the rewrite is always
// valid. Each Write must hold whole JSON values, as json.Encoder writes.
type jsonWriter struct{ w io.Writer }

func (j jsonWriter) Write(p []byte) (int, error) {
	q := bytes.ReplaceAll(p, []byte("##["), []byte(`##\u005b`))
	if _, err := j.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}
