package policy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// An OPA bundle of a pack (WriteBundle, ReadBundle) is a tar.gz holding
//
//   - .manifest: {"revision", "roots", "rego_version": 1, "metadata":
//     {"meridian": {"hash": the pack's Hash}}};
//   - every file of the pack at its own path, byte for byte: the rules, the
//     *_test.rego tests (so `opa test -b` runs them, a pushed bundle can be
//     activated, and the pack read back has the same Hash; the tests live in
//     package meridian_test and define nothing under data.meridian, so they
//     do not change the decision), and the data files;
//   - for each directory that holds data files, a data.json with their merged
//     content: OPA reads data only from files named data.json and places each
//     at the data path of its directory, which is where the pack places every
//     data file of that directory. OPA ignores the other .json files, so
//     `opa eval -b bundle.tar.gz data.meridian.decision` sees exactly the
//     data the engine sees.
//
// The roots are the packages' top-level names (meridian, meridian_test) and
// the data's top-level keys (data, for data/*.json at data.data): the bundle
// owns those trees and nothing else.

// MaxBundleBytes bounds a bundle, compressed and uncompressed: a pack's
// limit twice over (its data files and their data.json copies), and room for
// the manifest and tar headers.
const MaxBundleBytes = 2*MaxPackBytes + 1<<20

// maxBundleEntries bounds a bundle's tar entries: a pack's files, a data.json
// and a directory entry per file at most, and the manifest.
const maxBundleEntries = 3*MaxPackFiles + 1

// BundleFetchTimeout bounds LoadBundle's download of a bundle over HTTP.
const BundleFetchTimeout = 30 * time.Second

// Names OPA gives a meaning to in a bundle.
const (
	manifestFile   = ".manifest"
	bundleDataFile = "data.json"
)

// bundleMeta is the manifest's metadata.meridian.
type bundleMeta struct {
	Hash string `json:"hash"`
}

// WriteBundle writes p as an OPA bundle (tar.gz) with the given revision.
// The output depends only on p and revision: entries are sorted and carry no
// time or owner. It fails with a *PackError for a pack OPA could not read
// the same way: a file name OPA reserves (.signatures.json, patch.json,
// plan.json), a data.json beside other data files in one directory, or data
// in a directory whose name starts with a dot (OPA drops the dot).
func WriteBundle(w io.Writer, p *Pack, revision string) error {
	views, err := dataViews(p)
	if err != nil {
		return err
	}
	manifest := bundle.Manifest{
		Revision:    revision,
		Roots:       ptr(bundleRoots(p)),
		RegoVersion: ptr(1),
		Metadata:    map[string]any{"meridian": bundleMeta{Hash: p.Hash()}},
	}
	mb, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("policy: bundle manifest: %w", err)
	}
	files := append(slices.Clone(p.Files), views...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	entries := append([]File{{Path: manifestFile, Data: append(mb, '\n')}}, files...)

	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.Path, Mode: 0o644, Size: int64(len(e.Data)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("policy: write bundle: %w", err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			return fmt.Errorf("policy: write bundle: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("policy: write bundle: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("policy: write bundle: %w", err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// bundleRoots lists the top-level names the pack defines: its packages'
// and its data's.
func bundleRoots(p *Pack) []string {
	var roots []string
	for _, ms := range []map[string]*ast.Module{p.modules, p.tests} {
		for _, m := range ms {
			if s, ok := m.Package.Path[1].Value.(ast.String); ok { // NewPack checked the path
				roots = append(roots, string(s))
			}
		}
	}
	for k := range p.data {
		roots = append(roots, k)
	}
	slices.Sort(roots)
	return slices.Compact(roots)
}

// dataViews returns the data.json OPA needs in each directory that holds
// data files: their objects merged, as the pack merges them.
func dataViews(p *Pack) ([]File, error) {
	byDir := map[string][]File{}
	for _, f := range p.Files {
		base := path.Base(f.Path)
		switch base {
		case ".signatures.json", "patch.json", "plan.json":
			return nil, &PackError{File: f.Path, Message: fmt.Sprintf("OPA reserves the name %s in a bundle; rename the file", base)}
		}
		if !strings.HasSuffix(f.Path, ".json") {
			continue
		}
		dir := path.Dir(f.Path)
		if strings.HasPrefix(dir, ".") && dir != "." {
			return nil, &PackError{File: f.Path, Message: "OPA places data in a directory whose name starts with a dot elsewhere than the pack does; rename the directory"}
		}
		byDir[dir] = append(byDir[dir], f)
	}
	var views []File
	for dir, files := range byDir {
		if len(files) == 1 && path.Base(files[0].Path) == bundleDataFile {
			continue // OPA reads it as it is
		}
		merged := map[string]json.RawMessage{}
		for _, f := range files {
			if path.Base(f.Path) == bundleDataFile {
				return nil, &PackError{File: f.Path, Message: "a data.json cannot sit beside other data files in a bundle (OPA reads only data.json): merge them into one file"}
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(f.Data, &obj); err != nil {
				return nil, &PackError{File: f.Path, Message: "invalid JSON: " + err.Error()}
			}
			for k, v := range obj {
				merged[k] = v
			}
		}
		b, err := json.MarshalIndent(merged, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("policy: bundle data for %s: %w", dir, err)
		}
		views = append(views, File{Path: path.Join(dir, bundleDataFile), Data: append(b, '\n')})
	}
	return views, nil
}

// ReadBundle reads an OPA bundle (tar.gz) into a pack and returns it with the
// manifest's revision. It refuses, with a *PackError, what it cannot read
// safely or the same way OPA would: links and other non-regular entries,
// paths that are absolute or contain "..", an entry listed twice, more
// entries or bytes than the limits (MaxBundleBytes, and NewPack's limits for
// the pack), a missing .manifest, a Rego version other than 1, signed,
// delta, Wasm and plan bundles, and files that are neither .rego nor .json.
// A leading "/" is read as the bundle's root, as OPA writes and reads
// bundles (`opa build` names every entry /…), and "./" likewise.
//
// Data files other than data.json are read as the pack's data files; a
// data.json is then OPA's copy of its directory's data and must match it.
// In a directory without other data files (a bundle from `opa build`),
// data.json is itself a data file of the pack. Last, OPA's own bundle reader
// reads the same bytes: its checks apply (roots must cover every package and
// data path) and the data it loads must be the data of the pack, so OPA
// serving the bundle decides as the engine serving the pack.
func ReadBundle(r io.Reader) (*Pack, string, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBundleBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("policy: read bundle: %w", err)
	}
	if len(raw) > MaxBundleBytes {
		return nil, "", &PackError{Message: fmt.Sprintf("the bundle is over the limit of %d bytes", MaxBundleBytes)}
	}
	entries, err := untar(raw)
	if err != nil {
		return nil, "", err
	}

	var manifest *bundle.Manifest
	var files []File
	dataDirs := map[string]bool{} // directories with data files other than data.json
	var dataJSON []File
	for _, e := range entries {
		base := path.Base(e.Path)
		switch {
		case e.Path == manifestFile:
			manifest = &bundle.Manifest{}
			dec := json.NewDecoder(bytes.NewReader(e.Data))
			if err := dec.Decode(manifest); err != nil {
				return nil, "", &PackError{File: e.Path, Message: "invalid manifest: " + err.Error()}
			}
		case base == ".signatures.json":
			return nil, "", &PackError{File: e.Path, Message: "signed bundles are not supported: Meridian does not verify bundle signatures"}
		case base == "patch.json":
			return nil, "", &PackError{File: e.Path, Message: "delta bundles are not supported"}
		case base == "plan.json":
			return nil, "", &PackError{File: e.Path, Message: "plan bundles are not supported"}
		case strings.HasSuffix(e.Path, ".rego"):
			files = append(files, e)
		case base == bundleDataFile:
			dataJSON = append(dataJSON, e)
		case strings.HasSuffix(e.Path, ".json"):
			files = append(files, e)
			dataDirs[path.Dir(e.Path)] = true
		default:
			return nil, "", &PackError{File: e.Path, Message: "only .rego and .json files, and the .manifest, belong in a policy bundle"}
		}
	}
	if manifest == nil {
		return nil, "", &PackError{Message: "the bundle has no .manifest: it is not an OPA bundle"}
	}
	if v := manifest.RegoVersion; v != nil && *v != 1 {
		return nil, "", &PackError{File: manifestFile, Message: fmt.Sprintf("rego_version %d: policy packs are Rego v1", *v)}
	}
	for pattern, v := range manifest.FileRegoVersions {
		if v != 1 {
			return nil, "", &PackError{File: manifestFile, Message: fmt.Sprintf("file_rego_versions[%q] = %d: policy packs are Rego v1", pattern, v)}
		}
	}
	for _, f := range dataJSON {
		if !dataDirs[path.Dir(f.Path)] {
			files = append(files, f)
		}
	}
	p, err := NewPack(files)
	if err != nil {
		return nil, "", err
	}
	if meta, ok := manifest.Metadata["meridian"].(map[string]any); ok {
		if h, _ := meta["hash"].(string); h != "" && h != p.Hash() {
			return nil, "", &PackError{File: manifestFile, Message: fmt.Sprintf(
				"the files do not match the pack hash %.12s in the manifest (they hash to %.12s): the bundle was changed after it was written", h, p.Hash())}
		}
	}
	if err := checkWithOPA(raw, p); err != nil {
		return nil, "", err
	}
	return p, manifest.Revision, nil
}

// untar reads the regular files of a tar.gz, refusing what is unsafe or over
// the limits before reading it.
func untar(raw []byte) ([]File, error) {
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, &PackError{Message: "not a bundle (tar.gz): " + err.Error()}
	}
	tr := tar.NewReader(gz)
	var files []File
	seen := map[string]bool{}
	total := 0
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &PackError{Message: "not a bundle (tar.gz): " + err.Error()}
		}
		if n >= maxBundleEntries {
			return nil, &PackError{Message: fmt.Sprintf("the bundle has more than %d entries", maxBundleEntries)}
		}
		name, err := bundlePath(hdr.Name, hdr.Typeflag == tar.TypeDir)
		if err != nil {
			return nil, err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if hdr.Size != 0 {
				return nil, &PackError{File: hdr.Name, Message: "a directory entry with content"}
			}
			continue
		case tar.TypeReg:
		case tar.TypeSymlink, tar.TypeLink:
			return nil, &PackError{File: hdr.Name, Message: fmt.Sprintf("links are not allowed in a bundle (this one points to %q)", hdr.Linkname)}
		default:
			return nil, &PackError{File: hdr.Name, Message: fmt.Sprintf("only regular files are allowed in a bundle (tar entry type %q)", hdr.Typeflag)}
		}
		limit := int64(MaxFileBytes)
		if path.Base(name) == bundleDataFile {
			limit = MaxPackBytes // a directory's data merged
		}
		if hdr.Size > limit {
			return nil, &PackError{File: name, Message: fmt.Sprintf("%d bytes, over the limit of %d", hdr.Size, limit)}
		}
		if total += int(hdr.Size); total > MaxBundleBytes {
			return nil, &PackError{Message: fmt.Sprintf("the bundle's files are over the limit of %d bytes", MaxBundleBytes)}
		}
		if seen[name] {
			return nil, &PackError{File: name, Message: "listed twice in the bundle"}
		}
		seen[name] = true
		data, err := io.ReadAll(tr) // at most hdr.Size bytes
		if err != nil {
			return nil, &PackError{File: name, Message: "not a bundle (tar.gz): " + err.Error()}
		}
		files = append(files, File{Path: name, Data: data})
	}
	return files, nil
}

// bundlePath returns a tar entry's path within the bundle: relative and
// clean, without "..". One leading "/" or "./" is the bundle's root.
func bundlePath(name string, dir bool) (string, error) {
	if strings.ContainsFunc(name, func(r rune) bool { return r == '\\' || !unicode.IsPrint(r) }) {
		return "", &PackError{File: strconv.Quote(name), Message: "a bundle path must not contain \\ or unprintable characters"}
	}
	p := name
	if dir {
		p = strings.TrimSuffix(p, "/")
	}
	if rest, ok := strings.CutPrefix(p, "/"); ok {
		p = rest
	} else if rest, ok := strings.CutPrefix(p, "./"); ok {
		p = rest
	}
	if dir && (p == "" || p == ".") {
		return ".", nil
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", &PackError{File: name, Message: "a path with \"..\" is not allowed in a bundle"}
		}
	}
	switch {
	case p == "":
		return "", &PackError{File: name, Message: "an entry without a name"}
	case strings.HasPrefix(p, "/"):
		return "", &PackError{File: name, Message: "an absolute path is not allowed in a bundle"}
	case path.Clean(p) != p:
		return "", &PackError{File: name, Message: "a bundle path must be clean (no //, ./ or trailing /)"}
	}
	return p, nil
}

// checkWithOPA reads raw with OPA's bundle reader, which checks the manifest's
// roots against every package and data path, and compares the data OPA
// loads with the pack's.
func checkWithOPA(raw []byte, p *Pack) error {
	b, err := bundle.NewCustomReader(bundle.NewTarballLoaderWithBaseURL(bytes.NewReader(raw), "")).
		WithRegoVersion(ast.RegoV1).
		WithSizeLimitBytes(MaxPackBytes + 1).
		Read()
	if err != nil {
		return &PackError{Message: "OPA refuses the bundle: " + err.Error()}
	}
	opaData := b.Data
	if opaData == nil {
		opaData = map[string]any{}
	}
	if where, ok := firstDifference(opaData, p.data, "data"); !ok {
		return &PackError{Message: fmt.Sprintf("OPA would read other data than the pack's data files (first at %s): OPA reads only files named data.json, "+
			"so each directory with data files needs a data.json holding their merged content (meridian policy bundle writes it)", where)}
	}
	return nil
}

// firstDifference compares two JSON documents (numbers as json.Number) and
// returns the path of the first difference.
func firstDifference(a, b any, at string) (string, bool) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := make([]string, 0, len(am)+len(bm))
		for k := range am {
			keys = append(keys, k)
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			av, ain := am[k]
			bv, bin := bm[k]
			if ain != bin {
				return at + "." + k, false
			}
			if where, ok := firstDifference(av, bv, at+"."+k); !ok {
				return where, false
			}
		}
		return "", true
	}
	ab, err1 := json.Marshal(a)
	bb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil || !bytes.Equal(ab, bb) {
		return at, false
	}
	return "", true
}

// LoadBundle reads a bundle from a file or an http(s) URL. A download takes
// at most BundleFetchTimeout and MaxBundleBytes; a response other than
// 200 OK is an error naming the status.
func LoadBundle(ctx context.Context, src string) (*Pack, string, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return fetchBundle(ctx, src)
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, "", fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("policy: %w", err)
	}
	if info.IsDir() {
		return nil, "", fmt.Errorf("policy: %s is a directory, not a bundle (tar.gz)", src)
	}
	if info.Size() > MaxBundleBytes {
		return nil, "", &PackError{File: src, Message: fmt.Sprintf("%d bytes, over the bundle limit of %d", info.Size(), MaxBundleBytes)}
	}
	return ReadBundle(f)
}

func fetchBundle(ctx context.Context, src string) (*Pack, string, error) {
	u, err := url.Parse(src)
	if err != nil {
		return nil, "", fmt.Errorf("policy: bundle URL: %w", err)
	}
	shown := u.Redacted() // never print a password in the URL
	ctx, cancel := context.WithTimeout(ctx, BundleFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("policy: fetch %s: %w", shown, err)
	}
	// The body is the tar.gz itself; do not let the transport unzip it.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL, possibly with a password, is in ue.URL
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, "", fmt.Errorf("policy: fetch %s: no answer within %s", shown, BundleFetchTimeout)
		}
		return nil, "", fmt.Errorf("policy: fetch %s: %w", shown, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		msg := strings.Join(strings.FieldsFunc(string(snippet), func(r rune) bool { return !unicode.IsPrint(r) }), " ")
		if msg != "" {
			msg = ": " + msg
		}
		return nil, "", fmt.Errorf("policy: fetch %s: %s%s", shown, resp.Status, msg)
	}
	if resp.ContentLength > MaxBundleBytes {
		return nil, "", &PackError{File: shown, Message: fmt.Sprintf("%d bytes, over the bundle limit of %d", resp.ContentLength, MaxBundleBytes)}
	}
	p, rev, err := ReadBundle(resp.Body)
	if err != nil && ctx.Err() != nil {
		return nil, "", fmt.Errorf("policy: fetch %s: no complete answer within %s", shown, BundleFetchTimeout)
	}
	return p, rev, err
}
