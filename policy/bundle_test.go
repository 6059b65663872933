package policy_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/meridian-lake/meridian/policy"
	policies "github.com/meridian-lake/meridian/rego"
)

func shippedPack(tb testing.TB) *policy.Pack {
	tb.Helper()
	p, err := policy.LoadFS(policies.FS)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func bundleOf(tb testing.TB, p *policy.Pack, revision string) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := policy.WriteBundle(&b, p, revision); err != nil {
		tb.Fatalf("WriteBundle: %v", err)
	}
	return b.Bytes()
}

// TestBundleRoundTrip: the shipped pack written as a bundle and read back is
// the same pack (same files, same Hash) and decides every scenario the same.
func TestBundleRoundTrip(t *testing.T) {
	ctx := context.Background()
	p := shippedPack(t)
	raw := bundleOf(t, p, "v1-test")
	if again := bundleOf(t, p, "v1-test"); !bytes.Equal(raw, again) {
		t.Errorf("two bundles of one pack differ: the output should depend only on the pack and revision")
	}
	got, rev, err := policy.ReadBundle(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("ReadBundle: %v", err)
	}
	if rev != "v1-test" {
		t.Errorf("revision = %q, want %q", rev, "v1-test")
	}
	if got.Hash() != p.Hash() {
		t.Errorf("Hash after the round trip = %s, want %s", got.Hash(), p.Hash())
	}
	if diff := cmp.Diff(p.Files, got.Files); diff != "" {
		t.Errorf("files after the round trip (-want +got):\n%s", diff)
	}
	orig, err := policy.Compile(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := policy.Compile(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range loadScenarios(t) {
		c1, c2 := orig, back
		if sc.Data != nil {
			c1, c2 = withData(t, p, sc.Data), withData(t, got, sc.Data)
		}
		d1, err1 := c1.Decide(ctx, &sc.Input, time.Second)
		d2, err2 := c2.Decide(ctx, &sc.Input, time.Second)
		if err1 != nil || err2 != nil {
			t.Errorf("%s: Decide errors %v, %v", sc.Name, err1, err2)
			continue
		}
		if diff := cmp.Diff(d1, d2); diff != "" {
			t.Errorf("%s: decision of the pack read back (-pack +bundle):\n%s", sc.Name, diff)
		}
	}
}

// TestBundleServedByOPA: OPA's own loader (what `opa eval -b` and `opa run`
// use) serving the bundle decides every scenario exactly as the engine does.
func TestBundleServedByOPA(t *testing.T) {
	ctx := context.Background()
	p := shippedPack(t)
	file := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if err := os.WriteFile(file, bundleOf(t, p, "v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	pq, err := rego.New(rego.Query(policy.DecisionRef), rego.LoadBundle(file)).PrepareForEval(ctx)
	if err != nil {
		t.Fatalf("OPA loading the bundle: %v", err)
	}
	c, err := policy.Compile(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sc := range loadScenarios(t) {
		if sc.Data != nil {
			continue // the bundle holds the shipped data only
		}
		n++
		want, err := c.Decide(ctx, &sc.Input, time.Second)
		if err != nil {
			t.Fatalf("%s: Decide: %v", sc.Name, err)
		}
		rs, err := pq.Eval(ctx, rego.EvalInput(inputDocument(t, sc.Input)))
		if err != nil || len(rs) != 1 || len(rs[0].Expressions) != 1 {
			t.Fatalf("%s: OPA: %v, %v", sc.Name, rs, err)
		}
		got := asDecision(t, rs[0].Expressions[0].Value)
		if diff := cmp.Diff(asDecision(t, want), got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: OPA serving the bundle (-engine +opa):\n%s", sc.Name, diff)
		}
	}
	if n < 20 {
		t.Fatalf("only %d scenarios compared", n)
	}
}

// inputDocument is in as OPA gets it from JSON, with the empty lists the
// engine's own conversion gives for nil slices (not JSON null).
func inputDocument(t *testing.T, in policy.Input) map[string]any {
	t.Helper()
	fill := func(s *[]string) {
		if *s == nil {
			*s = []string{}
		}
	}
	fill(&in.Subject.Groups)
	fill(&in.Subject.Purposes)
	fill(&in.Request.ClientTags)
	fill(&in.Statement.Opaque)
	if in.Statement.WritesTo == nil {
		in.Statement.WritesTo = []policy.Write{}
	}
	in.Tables = append([]policy.Table{}, in.Tables...)
	for i := range in.Tables {
		tb := &in.Tables[i]
		for _, s := range []*[]string{&tb.Purposes, &tb.ColumnsRead, &tb.PIIColumnsRead, &tb.PIIInOutput, &tb.PIIGroupedBy} {
			fill(s)
		}
	}
	if in.Regions == nil {
		in.Regions = map[string]policy.RegionInfo{}
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// asDecision reads a decision through JSON, regions sorted as the engine
// sorts them.
func asDecision(t *testing.T, v any) policy.Decision {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var d policy.Decision
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	slices.Sort(d.Regions)
	return d
}

// TestReadOPABuiltBundle: a bundle written by OPA's own writer, the way
// `opa build` lays it out (entries named /…, all data in one /data.json),
// is read as a pack that decides as the shipped one.
func TestReadOPABuiltBundle(t *testing.T) {
	ctx := context.Background()
	p := shippedPack(t)
	b := bundle.Bundle{Manifest: bundle.Manifest{Revision: "opa-1", Roots: &[]string{""}}, Data: map[string]any{}}
	facts := map[string]any{}
	for _, f := range p.Files {
		switch {
		case strings.HasSuffix(f.Path, ".rego"):
			b.Modules = append(b.Modules, bundle.ModuleFile{URL: "/" + f.Path, Path: "/" + f.Path, Raw: f.Data})
		case path.Dir(f.Path) == "data":
			var obj map[string]any
			if err := json.Unmarshal(f.Data, &obj); err != nil {
				t.Fatal(err)
			}
			for k, v := range obj {
				facts[k] = v
			}
		default:
			t.Fatalf("unexpected file %s in the shipped pack", f.Path)
		}
	}
	b.Data["data"] = facts
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(b); err != nil {
		t.Fatal(err)
	}
	got, rev, err := policy.ReadBundle(&buf)
	if err != nil {
		t.Fatalf("ReadBundle of an OPA-written bundle: %v", err)
	}
	if rev != "opa-1" || !slices.ContainsFunc(got.Files, func(f policy.File) bool { return f.Path == "data.json" }) ||
		!slices.ContainsFunc(got.Files, func(f policy.File) bool { return f.Path == "meridian.rego" }) {
		var paths []string
		for _, f := range got.Files {
			paths = append(paths, f.Path)
		}
		t.Errorf("read revision %q, files %v; want opa-1 with data.json and meridian.rego at the root", rev, paths)
	}
	want, err := policy.Compile(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := policy.Compile(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range loadScenarios(t) {
		if sc.Data != nil {
			continue
		}
		d1, _ := want.Decide(ctx, &sc.Input, time.Second)
		d2, _ := c.Decide(ctx, &sc.Input, time.Second)
		if diff := cmp.Diff(d1, d2); diff != "" {
			t.Errorf("%s (-shipped +opa bundle):\n%s", sc.Name, diff)
		}
	}
}

// TestLoadBundle: from a file, from a URL; HTTP failures name the status
// and never show a password from the URL.
func TestLoadBundle(t *testing.T) {
	ctx := context.Background()
	p := shippedPack(t)
	raw := bundleOf(t, p, "v7")
	mux := http.NewServeMux()
	mux.HandleFunc("/bundles/meridian.tar.gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(raw)
	})
	mux.HandleFunc("/huge.tar.gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(policy.MaxBundleBytes+1))
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bundle store unavailable", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	got, rev, err := policy.LoadBundle(ctx, srv.URL+"/bundles/meridian.tar.gz")
	if err != nil {
		t.Fatalf("LoadBundle(URL): %v", err)
	}
	if got.Hash() != p.Hash() || rev != "v7" {
		t.Errorf("LoadBundle(URL) = hash %.12s revision %q, want %.12s v7", got.Hash(), rev, p.Hash())
	}

	file := filepath.Join(t.TempDir(), "meridian.tar.gz")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _, err := policy.LoadBundle(ctx, file); err != nil || got.Hash() != p.Hash() {
		t.Errorf("LoadBundle(file) = %v; want the pack", err)
	}

	withPassword := strings.Replace(srv.URL, "http://", "http://ci:s3cret@", 1)
	for _, tc := range []struct{ src, want string }{
		{withPassword + "/nosuch.tar.gz", "404 Not Found"},
		{srv.URL + "/broken", "503 Service Unavailable: bundle store unavailable"},
		{srv.URL + "/huge.tar.gz", "over the bundle limit"},
		{"http://127.0.0.1:1/meridian.tar.gz", "connection refused"},
		{filepath.Dir(file), "is a directory"},
		{filepath.Join(t.TempDir(), "nosuch.tar.gz"), "no such file"},
	} {
		_, _, err := policy.LoadBundle(ctx, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadBundle(%s) = %v, want an error with %q", tc.src, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("LoadBundle error shows the URL's password: %v", err)
		}
	}
}

// entry is a tar entry of a hand-made bundle.
type entry struct {
	name, body string
	typ        byte // tar.TypeReg when 0
	link       string
}

func tgz(tb testing.TB, entries ...entry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ, Linkname: e.link, Format: tar.FormatPAX}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

const (
	okManifest = `{"revision": "r1", "roots": ["meridian", "data"]}`
	okModule   = "package meridian\n\ndecision := {\"allow\": false, \"regions\": [], \"violations\": []}\n"
)

func okEntries(extra ...entry) []entry {
	return append([]entry{{name: ".manifest", body: okManifest}, {name: "p.rego", body: okModule}}, extra...)
}

// TestReadBundleAcceptsOPAPaths: entries named /… (as `opa build` writes
// them) or ./… (as tar -C dir . writes them) are read from the bundle root.
func TestReadBundleAcceptsOPAPaths(t *testing.T) {
	for _, prefix := range []string{"", "/", "./"} {
		raw := tgz(t, entry{name: prefix, typ: tar.TypeDir}, entry{name: prefix + ".manifest", body: okManifest},
			entry{name: prefix + "rules/", typ: tar.TypeDir}, entry{name: prefix + "rules/p.rego", body: okModule},
			entry{name: prefix + "data/x.json", body: `{"x": 1}`}, entry{name: prefix + "data/data.json", body: `{"x": 1}`})
		p, rev, err := policy.ReadBundle(bytes.NewReader(raw))
		if err != nil {
			t.Errorf("prefix %q: %v", prefix, err)
			continue
		}
		var paths []string
		for _, f := range p.Files {
			paths = append(paths, f.Path)
		}
		if want := []string{"data/x.json", "rules/p.rego"}; rev != "r1" || !slices.Equal(paths, want) {
			t.Errorf("prefix %q: revision %q files %v, want r1 %v", prefix, rev, paths, want)
		}
	}
}

// badBundles are bundles ReadBundle must refuse, with what the error says.
func badBundles(tb testing.TB) []struct {
	name string
	raw  []byte
	want string
} {
	big := strings.Repeat("#", policy.MaxFileBytes)
	var many, heavy []entry
	for i := range 3*policy.MaxPackFiles + 1 {
		many = append(many, entry{name: fmt.Sprintf("m%d.rego", i), body: okModule})
	}
	for i := range policy.MaxBundleBytes/policy.MaxFileBytes + 1 {
		heavy = append(heavy, entry{name: fmt.Sprintf("h%d.rego", i), body: big})
	}
	shipped := shippedPack(tb)
	var tampered []entry
	tr := tar.NewReader(mustGunzip(tb, bundleOf(tb, shipped, "v1")))
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		var b bytes.Buffer
		b.ReadFrom(tr)
		body := b.String()
		if hdr.Name == "meridian.rego" {
			body += "\n# edited after the bundle was written\n"
		}
		tampered = append(tampered, entry{name: hdr.Name, body: body})
	}
	return []struct {
		name string
		raw  []byte
		want string
	}{
		{"path traversal", tgz(tb, okEntries(entry{name: "../evil.rego", body: okModule})...), `".." is not allowed`},
		{"path traversal inside", tgz(tb, okEntries(entry{name: "rules/../../evil.rego", body: okModule})...), `".." is not allowed`},
		{"traversal from the root", tgz(tb, okEntries(entry{name: "/../evil.rego", body: okModule})...), `".." is not allowed`},
		{"absolute path", tgz(tb, okEntries(entry{name: "//etc/evil.rego", body: okModule})...), "absolute path"},
		{"unclean path", tgz(tb, okEntries(entry{name: "rules//evil.rego", body: okModule})...), "must be clean"},
		{"control characters", tgz(tb, okEntries(entry{name: "evil\x1b[2J.rego", body: okModule})...), "unprintable"},
		{"symlink", tgz(tb, okEntries(entry{name: "data/x.json", typ: tar.TypeSymlink, link: "/etc/passwd"})...), "links are not allowed"},
		{"hard link", tgz(tb, okEntries(entry{name: "q.rego", typ: tar.TypeLink, link: "p.rego"})...), "links are not allowed"},
		{"device", tgz(tb, okEntries(entry{name: "tty.rego", typ: tar.TypeChar})...), "only regular files"},
		{"no manifest", tgz(tb, entry{name: "p.rego", body: okModule}), "no .manifest"},
		{"file too large", tgz(tb, okEntries(entry{name: "big.rego", body: big + "#"})...), "over the limit"},
		{"too many entries", tgz(tb, append(okEntries(), many...)...), "more than"},
		{"too many bytes", tgz(tb, append(okEntries(), heavy...)...), "over the limit"},
		{"compressed too large", make([]byte, policy.MaxBundleBytes+1), "over the limit"},
		{"not gzip", []byte("PK\x03\x04 a zip file"), "not a bundle"},
		{"listed twice", tgz(tb, okEntries(entry{name: "p.rego", body: okModule})...), "listed twice"},
		{"signed", tgz(tb, okEntries(entry{name: ".signatures.json", body: `{"signatures": []}`})...), "signed bundles"},
		{"delta", tgz(tb, okEntries(entry{name: "patch.json", body: `{"data": []}`})...), "delta bundles"},
		{"wasm", tgz(tb, okEntries(entry{name: "policy.wasm", body: "\x00asm"})...), "only .rego and .json"},
		{"other file", tgz(tb, okEntries(entry{name: "run.sh", body: "rm -rf /"})...), "only .rego and .json"},
		{"rego v0", tgz(tb, entry{name: ".manifest", body: `{"roots": ["meridian"], "rego_version": 0}`}, entry{name: "p.rego", body: okModule}), "Rego v1"},
		{"data without data.json", tgz(tb, okEntries(entry{name: "data/x.json", body: `{"x": 1}`})...), "OPA would read other data"},
		{"data.json disagrees", tgz(tb, okEntries(entry{name: "data/x.json", body: `{"x": 1}`}, entry{name: "data/data.json", body: `{"x": 2}`})...), "first at data.data.x"},
		{"roots miss a package", tgz(tb, entry{name: ".manifest", body: `{"roots": ["data"]}`}, entry{name: "p.rego", body: okModule}), "do not permit"},
		{"edited after writing", tgz(tb, tampered...), "do not match the pack hash"},
		{"syntax error", tgz(tb, okEntries(entry{name: "q.rego", body: "package meridian\nx := {\n"})...), "q.rego"},
	}
}

func mustGunzip(tb testing.TB, raw []byte) *bytes.Reader {
	tb.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(gz); err != nil {
		tb.Fatal(err)
	}
	return bytes.NewReader(b.Bytes())
}

// TestReadBundleRefuses: unsafe, oversized and inconsistent bundles are
// refused with a *PackError saying why.
func TestReadBundleRefuses(t *testing.T) {
	// The hand-made good bundle the bad ones derive from is accepted.
	if _, _, err := policy.ReadBundle(bytes.NewReader(tgz(t, okEntries()...))); err != nil {
		t.Fatalf("the base bundle is refused: %v", err)
	}
	for _, tc := range badBundles(t) {
		t.Run(tc.name, func(t *testing.T) {
			p, _, err := policy.ReadBundle(bytes.NewReader(tc.raw))
			var pe *policy.PackError
			if !errors.As(err, &pe) {
				t.Fatalf("ReadBundle = %v, %v; want a *PackError", p, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadBundle error = %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestWriteBundleRefuses: a pack OPA would read otherwise is not written.
func TestWriteBundleRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		file policy.File
	}{
		{"reserved name", policy.File{Path: "data/patch.json", Data: []byte(`{"p": 1}`)}},
		{"data.json beside data files", policy.File{Path: "data/data.json", Data: []byte(`{"p": 1}`)}},
		{"dot directory", policy.File{Path: ".hidden/x.json", Data: []byte(`{"p": 1}`)}},
	} {
		p, err := policy.NewPack([]policy.File{{Path: "p.rego", Data: []byte(okModule)}, {Path: "data/x.json", Data: []byte(`{"x": 1}`)}, tc.file})
		if err != nil {
			t.Fatal(err)
		}
		var pe *policy.PackError
		if err := policy.WriteBundle(new(bytes.Buffer), p, "r"); !errors.As(err, &pe) || pe.File != tc.file.Path {
			t.Errorf("%s: WriteBundle = %v, want a *PackError naming %s", tc.name, err, tc.file.Path)
		}
	}
}

// FuzzReadBundle: any input is read or refused with a *PackError, without
// panicking.
func FuzzReadBundle(f *testing.F) {
	f.Add(bundleOf(f, shippedPack(f), "v1"))
	f.Add(tgz(f, okEntries()...))
	for _, b := range badBundles(f) {
		if len(b.raw) < 1<<16 {
			f.Add(b.raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, _, err := policy.ReadBundle(bytes.NewReader(raw))
		var pe *policy.PackError
		switch {
		case err != nil && !errors.As(err, &pe):
			t.Errorf("ReadBundle error %T %v, want a *PackError", err, err)
		case err == nil && (p == nil || len(p.Hash()) != 64):
			t.Errorf("ReadBundle accepted a bundle but returned pack %v", p)
		}
	})
}
