package trino

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseType(t *testing.T) {
	cases := map[string]string{
		"bigint":                       `{"rawType":"bigint","arguments":[]}`,
		"decimal(12,2)":                `{"rawType":"decimal","arguments":[{"kind":"LONG","value":12},{"kind":"LONG","value":2}]}`,
		"varchar(25)":                  `{"rawType":"varchar","arguments":[{"kind":"LONG","value":25}]}`,
		"timestamp(6) with time zone":  `{"rawType":"timestamp with time zone","arguments":[{"kind":"LONG","value":6}]}`,
		"timestamp(3)":                 `{"rawType":"timestamp","arguments":[{"kind":"LONG","value":3}]}`,
		"interval day to second":       `{"rawType":"interval day to second","arguments":[]}`,
		"interval year to month":       `{"rawType":"interval year to month","arguments":[]}`,
		"array(varchar)":               `{"rawType":"array","arguments":[{"kind":"TYPE","value":{"rawType":"varchar","arguments":[]}}]}`,
		"map(varchar, double)":         `{"rawType":"map","arguments":[{"kind":"TYPE","value":{"rawType":"varchar","arguments":[]}},{"kind":"TYPE","value":{"rawType":"double","arguments":[]}}]}`,
		`row(a bigint, "b c" varchar)`: `{"rawType":"row","arguments":[{"kind":"NAMED_TYPE","value":{"fieldName":{"name":"a"},"typeSignature":{"rawType":"bigint","arguments":[]}}},{"kind":"NAMED_TYPE","value":{"fieldName":{"name":"b c"},"typeSignature":{"rawType":"varchar","arguments":[]}}}]}`,
		"array(row(x decimal(3,1)))":   `{"rawType":"array","arguments":[{"kind":"TYPE","value":{"rawType":"row","arguments":[{"kind":"NAMED_TYPE","value":{"fieldName":{"name":"x"},"typeSignature":{"rawType":"decimal","arguments":[{"kind":"LONG","value":3},{"kind":"LONG","value":1}]}}}]}}]}`,
	}
	for in, want := range cases {
		sig, err := ParseType(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		got, _ := json.Marshal(sig)
		if string(got) != want {
			t.Errorf("%s:\n got %s\nwant %s", in, got, want)
		}
		var back TypeSignature
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%s: round trip: %v", in, err)
		}
		again, _ := json.Marshal(back)
		if string(again) != want {
			t.Errorf("%s: round trip changed it: %s", in, again)
		}
	}
	for _, bad := range []string{"", "decimal(12", "map(varchar,", "array(bigint))", strings.Repeat("array(", 200) + "bigint" + strings.Repeat(")", 200)} {
		if _, err := ParseType(bad); err == nil {
			t.Errorf("ParseType(%q) accepted bad input", bad)
		}
	}
}

func TestPreparedHeader(t *testing.T) {
	long := "SELECT * FROM eu.guests WHERE name = 'x' " + strings.Repeat("AND 1 = 1 ", 200)
	h := []string{EncodePrepared("q 1", "SELECT 1, 'a,b'", 0) + "," + EncodePrepared("big", long, 1024)}
	if !strings.Contains(h[0], "$zstd") && !strings.Contains(h[0], "%24zstd") {
		t.Fatalf("long statement not compressed: %s", h[0])
	}
	got, err := ParsePrepared(h)
	if err != nil {
		t.Fatal(err)
	}
	if got["q 1"] != "SELECT 1, 'a,b'" || got["big"] != long {
		t.Fatalf("decoded %q", got)
	}
	for _, bad := range []string{"noequals", "x=%zz", "x=" + "%24zstd%3A!!!", "x=%24zstd%3AAAAA"} {
		if _, err := ParsePrepared([]string{bad}); err == nil {
			t.Errorf("ParsePrepared(%q) accepted bad input", bad)
		}
	}
	// A compressed value expanding past the limit is refused.
	bomb := EncodePrepared("b", strings.Repeat("a", MaxPreparedBytes+10), 1)
	if _, err := ParsePrepared([]string{bomb}); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("zstd bomb: %v", err)
	}
}

func TestErrorRendering(t *testing.T) {
	e := Errorf(SyntaxError, "mismatched input 'FORM'").At(1, 10)
	q := e.QueryError()
	if q.Message != "line 1:10: mismatched input 'FORM'" || q.ErrorCode != 1 || q.ErrorType != "USER_ERROR" || q.ErrorLocation.ColumnNumber != 10 {
		t.Fatalf("%+v", q)
	}
}

// The real Trino documents decode into QueryResults and keep their meaning.
func TestFixturesDecode(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/corpus/protocol-fixtures/*/*.json")
	if len(files) == 0 {
		t.Skip("shared corpus not beside the project")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var qr QueryResults
		if err := json.Unmarshal(b, &qr); err != nil {
			if strings.Contains(f, "Bogus") {
				continue // deliberately invalid
			}
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}

// The numbers are Trino's: clients and dashboards key on them.
func TestCodeNumbers(t *testing.T) {
	for c, want := range map[Code]int{SyntaxError: 1, PermissionDenied: 4, NotSupported: 13, QueryRejected: 31,
		QueryTextTooLarge: 35, CatalogNotFound: 44, TableNotFound: 46, MissingCatalogName: 56, MissingSchemaName: 57,
		InvalidParameter: 80, GenericInternalError: 65536, NoNodesAvailable: 65541, ServerShuttingDown: 65545,
		ExceededTimeLimit: 131075} {
		if c.Code != want {
			t.Errorf("%s = %d, want %d", c.Name, c.Code, want)
		}
	}
}
