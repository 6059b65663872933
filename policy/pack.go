package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Limits on a policy pack: packs are uploaded by people, so they are bounded.
const (
	MaxPackFiles = 256
	MaxFileBytes = 1 << 20
	MaxPackBytes = 8 << 20
)

// DecisionRef is the rule a pack must define.
const DecisionRef = "data.meridian.decision"

// allowedRoot is the package root every policy module must live under.
const allowedRoot = "meridian"

// File is one file of a pack: a .rego module (a *_test.rego file holds tests)
// or a .json data document, placed at data.<directory path>.
type File struct {
	Path string `json:"path"`
	Data []byte `json:"data"`
}

// Pack is a checked set of policy files.
type Pack struct {
	Files   []File
	modules map[string]*ast.Module // rules
	tests   map[string]*ast.Module // *_test.rego
	data    map[string]any
	hash    string
}

// PackError is a problem in a pack, pointing at the file and, for Rego
// errors, the line and column.
type PackError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

func (e *PackError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
	case e.File != "":
		return fmt.Sprintf("%s: %s", e.File, e.Message)
	}
	return e.Message
}

// LoadFS reads a pack from a file system: every .rego and .json file in it.
func LoadFS(fsys fs.FS) (*Pack, error) {
	var files []File
	total := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, ".json")) {
			return nil
		}
		if len(files) >= MaxPackFiles {
			return &PackError{Message: fmt.Sprintf("more than %d files", MaxPackFiles)}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > MaxFileBytes {
			return &PackError{File: p, Message: fmt.Sprintf("%d bytes, over the limit of %d", info.Size(), MaxFileBytes)}
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		total += len(data)
		if total > MaxPackBytes {
			return &PackError{Message: fmt.Sprintf("the pack is over the limit of %d bytes", MaxPackBytes)}
		}
		files = append(files, File{Path: p, Data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return NewPack(files)
}

// NewPack parses and checks files: Rego v1 syntax, packages under
// data.meridian, data documents that are JSON objects, and the limits.
func NewPack(files []File) (*Pack, error) {
	if len(files) > MaxPackFiles {
		return nil, &PackError{Message: fmt.Sprintf("%d files, over the limit of %d", len(files), MaxPackFiles)}
	}
	p := &Pack{Files: append([]File(nil), files...), modules: map[string]*ast.Module{}, tests: map[string]*ast.Module{}, data: map[string]any{}}
	sort.Slice(p.Files, func(i, j int) bool { return p.Files[i].Path < p.Files[j].Path })
	total := 0
	h := sha256.New()
	for i, f := range p.Files {
		if i > 0 && f.Path == p.Files[i-1].Path {
			return nil, &PackError{File: f.Path, Message: "listed twice"}
		}
		clean := path.Clean(f.Path)
		if clean != f.Path || strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
			return nil, &PackError{File: f.Path, Message: "a file path must be relative and clean"}
		}
		if len(f.Data) > MaxFileBytes {
			return nil, &PackError{File: f.Path, Message: fmt.Sprintf("%d bytes, over the limit of %d", len(f.Data), MaxFileBytes)}
		}
		total += len(f.Data)
		if total > MaxPackBytes {
			return nil, &PackError{Message: fmt.Sprintf("the pack is over the limit of %d bytes", MaxPackBytes)}
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f.Path, len(f.Data))
		h.Write(f.Data)
		switch {
		case strings.HasSuffix(f.Path, ".rego"):
			m, err := ast.ParseModuleWithOpts(f.Path, string(f.Data), ast.ParserOptions{RegoVersion: ast.RegoV1})
			if err != nil {
				return nil, regoError(f.Path, err)
			}
			isTest := strings.HasSuffix(f.Path, "_test.rego")
			if !isUnderRoot(m.Package.Path, isTest) {
				return nil, &PackError{File: f.Path, Line: m.Package.Location.Row, Column: m.Package.Location.Col,
					Message: fmt.Sprintf("package %s is outside the allowed root: policy packages must be %s or under it", m.Package.Path, allowedRoot)}
			}
			if isTest {
				p.tests[f.Path] = m
			} else {
				p.modules[f.Path] = m
			}
		case strings.HasSuffix(f.Path, ".json"):
			if err := p.addData(f); err != nil {
				return nil, err
			}
		default:
			return nil, &PackError{File: f.Path, Message: "only .rego and .json files belong in a policy pack"}
		}
	}
	if len(p.modules) == 0 {
		return nil, &PackError{Message: "the pack has no policy modules"}
	}
	p.hash = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// Hash is the pack's content hash: sha256 over its file paths and contents.
func (p *Pack) Hash() string { return p.hash }

// isUnderRoot reports whether a package (data.<root>.…) is under the allowed
// root; test files may also use <root>_test, OPA's convention for tests.
func isUnderRoot(ref ast.Ref, test bool) bool {
	if len(ref) < 2 {
		return false
	}
	s, ok := ref[1].Value.(ast.String)
	return ok && (string(s) == allowedRoot || test && string(s) == allowedRoot+"_test")
}

// addData merges a JSON object at data.<dir> (the way `opa test` and bundles
// place data files).
func (p *Pack) addData(f File) error {
	dec := json.NewDecoder(bytes.NewReader(f.Data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return &PackError{File: f.Path, Message: "invalid JSON: " + err.Error()}
	}
	if dec.More() {
		return &PackError{File: f.Path, Message: "invalid JSON: more than one document"}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return &PackError{File: f.Path, Message: "a data file must hold a JSON object"}
	}
	node := p.data
	if dir := path.Dir(f.Path); dir != "." {
		for _, part := range strings.Split(dir, "/") {
			next, ok := node[part].(map[string]any)
			if !ok {
				if _, exists := node[part]; exists {
					return &PackError{File: f.Path, Message: fmt.Sprintf("data path %s collides with a value", dir)}
				}
				next = map[string]any{}
				node[part] = next
			}
			node = next
		}
	}
	for k, val := range obj {
		if _, dup := node[k]; dup {
			return &PackError{File: f.Path, Message: fmt.Sprintf("key %q is already defined by another data file in %s", k, path.Dir(f.Path))}
		}
		node[k] = val
	}
	return nil
}

// regoError turns an OPA parse or compile error into a PackError.
func regoError(file string, err error) error {
	var errs ast.Errors
	if errors.As(err, &errs) && len(errs) > 0 {
		e := errs[0]
		pe := &PackError{File: file, Message: e.Message}
		if e.Location != nil {
			pe.Line, pe.Column = e.Location.Row, e.Location.Col
			if e.Location.File != "" {
				pe.File = e.Location.File
			}
		}
		if len(errs) > 1 {
			pe.Message += fmt.Sprintf(" (and %d more errors)", len(errs)-1)
		}
		return pe
	}
	return &PackError{File: file, Message: err.Error()}
}
