package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func tokenize(key, uri string) (string, error) { return "https://meridian/" + key + "?" + uri, nil }

// rewriteAll rewrites doc fed in chunks of n bytes.
func rewriteAll(t testing.TB, doc string, n int) (string, pageSummary, error) {
	var out bytes.Buffer
	src := iotest.OneByteReader(strings.NewReader(doc))
	if n > 1 {
		src = &chunkReader{s: doc, n: n}
	}
	sum, err := rewritePage(&out, src, tokenize, nil)
	return out.String(), sum, err
}

type chunkReader struct {
	s string
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := min(c.n, len(c.s), len(p))
	copy(p, c.s[:k])
	c.s = c.s[k:]
	if c.s == "" {
		return k, nil
	}
	return k, nil
}

func TestRewritePage(t *testing.T) {
	doc := `{"id":"20241030_150409_00000_zhg55","infoUri":"http://c:8080/ui/query.html?x",` +
		`"nextUri":"http://c:8080/v1/statement/executing/q/s\/1?a=\"b\"",` +
		`"columns":[{"name":"nextUri","type":"varchar"}],` +
		`"data":[["{\"nextUri\":\"x\"}", "nextUri"],[1,2]],"stats":{"state":"RUNNING","nextUri":"nested"},` +
		`"partialCancelUri" : "http://c:8080/v1/statement/executing/partialCancel/q/0/s/1","warnings":[]}`
	for _, n := range []int{1, 3, 7, 1 << 20} {
		got, sum, err := rewriteAll(t, doc, n)
		if err != nil {
			t.Fatalf("chunk %d: %v", n, err)
		}
		var want, have map[string]any
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(got), &have); err != nil {
			t.Fatalf("chunk %d: output is not JSON: %v\n%s", n, err, got)
		}
		for _, k := range []string{"nextUri", "partialCancelUri", "infoUri"} {
			want[k], _ = tokenize(k, want[k].(string))
		}
		if diff := cmp.Diff(want, have); diff != "" {
			t.Fatalf("chunk %d (-want +got):\n%s", n, diff)
		}
		if sum.ID != "20241030_150409_00000_zhg55" || sum.NextURI != `http://c:8080/v1/statement/executing/q/s/1?a="b"` {
			t.Fatalf("chunk %d: summary %+v", n, sum)
		}
	}
}

// Real documents from Trino and its clients keep everything but the URIs.
func TestRewriteFixtures(t *testing.T) {
	files, _ := filepath.Glob("../../shared/corpus/protocol-fixtures/*/*.json")
	if len(files) == 0 {
		t.Skip("shared corpus not beside the project")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var want map[string]any
		if json.Unmarshal(b, &want) != nil {
			continue
		}
		got, sum, err := rewriteAll(t, string(b), 4096)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var have map[string]any
		if err := json.Unmarshal([]byte(got), &have); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k := range rewrittenKeys {
			if s, ok := want[k].(string); ok {
				want[k], _ = tokenize(k, s)
			}
		}
		if diff := cmp.Diff(want, have); diff != "" {
			t.Errorf("%s (-want +got):\n%s", filepath.Base(f), diff)
		}
		if id, _ := want["id"].(string); sum.ID != id {
			t.Errorf("%s: id %q, want %q", f, sum.ID, id)
		}
	}
}

func TestRewriteRefusesHugeURI(t *testing.T) {
	doc := `{"nextUri":"` + strings.Repeat("a", maxURIBytes+1) + `"}`
	if _, _, err := rewriteAll(t, doc, 1024); err == nil || !strings.Contains(err.Error(), "over") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzRewritePage: any input is handled without panicking; a valid JSON
// object keeps every field but the URIs, which are rewritten.
func FuzzRewritePage(f *testing.F) {
	f.Add(`{"id":"q","nextUri":"http://x/1","data":[[1,"a"]]}`)
	f.Add(`{"a":{"nextUri":"n"},"nextUri":null,"infoUri":"\u0041"}`)
	f.Add(`[{"nextUri":"x"}]`)
	f.Add(`{"nextUri":"x\`)
	f.Add(`{"data":[["a\"]","b\\",{"k":"}]"}],[]],"nextUri":"http://x/\u0026y","partialCancelUri":"p"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var out bytes.Buffer
		sum, err := rewritePage(&out, strings.NewReader(doc), tokenize, nil)
		// The in-memory variant, which may copy the rest of a page
		// unread, gives the same page and summary.
		var whole bytes.Buffer
		wsum, werr := rewritePageBytes(&whole, []byte(doc), tokenize, nil)
		if (err == nil) != (werr == nil) || (err == nil && (whole.String() != out.String() || wsum != sum)) {
			t.Fatalf("input %q: streamed %q, %+v, %v; in memory %q, %+v, %v", doc, out.String(), sum, err, whole.String(), wsum, werr)
		}
		var want map[string]any
		if json.Unmarshal([]byte(doc), &want) != nil || err != nil {
			return
		}
		var have map[string]any
		if err := json.Unmarshal(out.Bytes(), &have); err != nil {
			t.Fatalf("valid input %q gave invalid output %q: %v", doc, out.String(), err)
		}
		for k := range rewrittenKeys {
			if s, ok := want[k].(string); ok {
				want[k], _ = tokenize(k, s)
			}
		}
		if !cmp.Equal(want, have) {
			t.Fatalf("input %q: got %q", doc, out.String())
		}
	})
}

// BenchmarkRewritePage streams a page of 10,000 three-column rows, as the
// local engine sends them, through the URI rewriter.
func BenchmarkRewritePage(b *testing.B) {
	var page bytes.Buffer
	page.WriteString(`{"id":"20241030_150409_00000_zhg55","infoUri":"http://c/ui/query.html?x","nextUri":"http://c/v1/statement/executing/20241030_150409_00000_zhg55/y1/3","columns":[{"name":"a","type":"bigint"},{"name":"b","type":"varchar"}],"data":[`)
	for i := range 10000 {
		if i > 0 {
			page.WriteByte(',')
		}
		fmt.Fprintf(&page, `[%d,"name \"%d\"",%d.5]`, i, i, i)
	}
	page.WriteString(`],"stats":{"state":"RUNNING"},"warnings":[]}`)
	rewrite := func(_, uri string) (string, error) { return uri + "/t", nil }
	b.Run("streamed", func(b *testing.B) {
		b.SetBytes(int64(page.Len()))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rewritePage(io.Discard, bytes.NewReader(page.Bytes()), rewrite, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A page fetched ahead is in memory: the rows are copied unread.
	b.Run("in-memory", func(b *testing.B) {
		b.SetBytes(int64(page.Len()))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rewritePageBytes(io.Discard, page.Bytes(), rewrite, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// rewritePageBytes is the whole page rewritePageHead describes: its head,
// then the unchanged tail.
func rewritePageBytes(dst io.Writer, page []byte, rewrite func(key, uri string) (string, error), onID func(string)) (pageSummary, error) {
	sum, tail, err := rewritePageHead(dst, page, rewrite, onID)
	if err != nil {
		return sum, err
	}
	_, err = dst.Write(page[tail:])
	return sum, err
}
