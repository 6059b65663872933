package lifecycle

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want Money
		err  bool
	}{
		{"0.023", 23_000_000, false},
		{"0.00099", 990_000, false},
		{"1785000", Dollars(1_785_000), false},
		{"$12.5", 12_500_000_000, false},
		{".5", 500_000_000, false},
		{"-1.25", -1_250_000_000, false},
		{"0.0000000001", 0, true}, // ten decimals
		{"1e3", 0, true},
		{"", 0, true},
		{"1.2.3", 0, true},
		{"99999999999", 0, true}, // beyond $9.2 billion
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	for m, want := range map[Money]string{990_000: "0.00099", Dollars(1_785_000): "1785000.00", 12_500_000_000: "12.50", -5: "-0.000000005"} {
		if got := m.Exact(); got != want {
			t.Errorf("Money(%d).Exact() = %q, want %q", int64(m), got, want)
		}
	}
	if got := Money(1_004_999_999).String(); got != "$1.00" {
		t.Errorf("String() = %q, want $1.00", got)
	}
	if got := Money(1_005_000_000).String(); got != "$1.01" {
		t.Errorf("String() = %q, want $1.01", got)
	}
}

func TestMoneyJSON(t *testing.T) {
	in := struct{ A, B Money }{A: 990_000, B: Dollars(1_785_000)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"A":"0.00099","B":"1785000.00"}` {
		t.Errorf("json = %s", b)
	}
	var out struct{ A, B Money }
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("round trip = %+v, %v; want %+v", out, err, in)
	}
	// Numbers are read from their text, never through float64.
	if err := json.Unmarshal([]byte(`{"A":0.1,"B":0.30000000000000004}`), &out); err == nil {
		t.Errorf("17 decimals accepted: %+v", out)
	}
	if err := json.Unmarshal([]byte(`{"A":0.1,"B":0.3}`), &out); err != nil || out.A+out.A+out.A != out.B {
		t.Errorf("0.1+0.1+0.1 != 0.3: %+v %v", out, err)
	}
}

func TestParsePriceTable(t *testing.T) {
	pt := designPrices(t)
	if pt.Version != "design-2024" || pt.BytesPerGB != 1e9 {
		t.Errorf("version %q bytes_per_gb %d", pt.Version, pt.BytesPerGB)
	}
	if got := pt.Regions["us-east-1"].Classes[DeepArchive].StorageGBMonth; got != 1_000_000 {
		t.Errorf("DEEP_ARCHIVE override = %s, want 0.001", got.Exact())
	}
	// Regions the override does not name keep the defaults.
	if got := pt.Regions["eu-central-1"].Classes[Standard].StorageGBMonth; got != 24_500_000 {
		t.Errorf("eu-central-1 STANDARD = %s, want 0.0245", got.Exact())
	}

	bad := []struct{ name, yaml, want string }{
		{"no version", "regions: {}", "version is empty"},
		{"unknown field", "version: x\nfoo: 1", "field foo not found"},
		{"float drift", "version: x\nregions:\n  us-east-1:\n    classes:\n      STANDARD: {storage_gb_month: 0.0000000001}", "at most 9 decimal places"},
		{"incomplete region", "version: x\nregions:\n  us-east-1:\n    classes:\n      STANDARD: {storage_gb_month: 0.02}", "no prices for INTELLIGENT_TIERING"},
		{"bad unit", "version: x\nbytes_per_gb: 1000", "bytes_per_gb is 1000"},
		{"unknown class", "version: x\nregions:\n  us-east-1:\n    classes:\n      REDUCED_REDUNDANCY: {storage_gb_month: 0.02}", "unknown class"},
	}
	for _, tt := range bad {
		_, err := ParsePriceTable([]byte(tt.yaml), DefaultPrices())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ParsePriceTable error = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
	if _, err := DefaultPrices().Region("ap-south-1"); err == nil || !strings.Contains(err.Error(), "no prices for region") {
		t.Errorf("Region(ap-south-1) error = %v", err)
	}
	if err := DefaultPrices().Validate(); err != nil {
		t.Errorf("DefaultPrices invalid: %v", err)
	}
}

// FuzzParseMoney: no panic, and what parses prints back to the same value.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0.023", "0.00099", "1785000", "$12.5", "-1.25", ".5", "1e3", "9223372036.854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		back, err := ParseMoney(m.Exact())
		if err != nil || back != m {
			t.Errorf("ParseMoney(%q) = %d; Exact %q reparses to %d, %v", s, m, m.Exact(), back, err)
		}
	})
}

// FuzzParsePriceTable: configuration is untrusted input; no panic, and an
// accepted table validates.
func FuzzParsePriceTable(f *testing.F) {
	f.Add([]byte("version: x\nbytes_per_gb: 1000000000"))
	f.Add([]byte(`{"version":"x","regions":{}}`))
	f.Add([]byte("version: x\nregions:\n  us-east-1:\n    classes:\n      STANDARD: {storage_gb_month: 0.02}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pt, err := ParsePriceTable(data, DefaultPrices())
		if err == nil {
			if verr := pt.Validate(); verr != nil {
				t.Errorf("accepted table fails Validate: %v", verr)
			}
		}
	})
}
