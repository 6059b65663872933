package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/meridian-lake/meridian/internal/trino"
)

// encoder appends the protocol's JSON form of one non-NULL value of a column
// to b. The value is what duckdb-go hands out for the column's type.
type encoder func(b []byte, v any) ([]byte, error)

// column is one result column: its Trino type and how its values are written.
type column struct {
	name string
	typ  string // Trino type name: "decimal(10,2)", "array(varchar)"
	enc  encoder
}

// wire is the column as QueryResults carries it.
func (c column) wire() (trino.Column, error) {
	sig, err := trino.ParseType(c.typ)
	if err != nil {
		return trino.Column{}, fmt.Errorf("column %s: %w", c.name, err)
	}
	return trino.Column{Name: c.name, Type: c.typ, TypeSignature: sig}, nil
}

// appendValue writes v (NULL when nil) with enc.
func appendValue(b []byte, enc encoder, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	return enc(b, v)
}

// duckColumn maps a DuckDB result type, as duckdb-go names it
// (ColumnType.DatabaseTypeName: "DECIMAL(18,3)", "VARCHAR[]",
// `STRUCT("a" INTEGER)`, "MAP(VARCHAR, BIGINT)"), to a Trino type and
// encoder. Timestamps with time zone are written in loc.
func duckColumn(name, duckType string, loc *time.Location) (column, error) {
	p := &duckTypeParser{s: duckType, loc: loc}
	typ, enc, err := p.parse(0)
	if err == nil && p.i != len(p.s) {
		err = fmt.Errorf("unexpected %q", p.s[p.i:])
	}
	if err != nil {
		return column{}, trino.Errorf(trino.NotSupported, "column %s: DuckDB type %s has no Trino equivalent here: %v", name, duckType, err)
	}
	return column{name: name, typ: typ, enc: enc}, nil
}

type duckTypeParser struct {
	s   string
	i   int
	loc *time.Location
}

func (p *duckTypeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *duckTypeParser) peek(c byte) bool {
	p.space()
	return p.i < len(p.s) && p.s[p.i] == c
}

func (p *duckTypeParser) expect(c byte) error {
	if !p.peek(c) {
		return fmt.Errorf("want %q at offset %d", c, p.i)
	}
	p.i++
	return nil
}

// word reads a type name, which may be several words ("TIMESTAMP WITH TIME
// ZONE", "DOUBLE PRECISION").
func (p *duckTypeParser) word() string {
	p.space()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '(' || c == ')' || c == ',' || c == '[' || c == ']' {
			break
		}
		p.i++
	}
	return strings.ToUpper(strings.TrimSpace(p.s[start:p.i]))
}

// quoted reads a "double-quoted" struct field name.
func (p *duckTypeParser) quoted() (string, error) {
	if err := p.expect('"'); err != nil {
		return "", err
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		if c == '"' {
			if p.i < len(p.s) && p.s[p.i] == '"' {
				b.WriteByte('"')
				p.i++
				continue
			}
			return b.String(), nil
		}
		b.WriteByte(c)
	}
	return "", fmt.Errorf("unterminated field name")
}

func (p *duckTypeParser) number() (int, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return strconv.Atoi(p.s[start:p.i])
}

func (p *duckTypeParser) parse(depth int) (string, encoder, error) {
	if depth > 64 {
		return "", nil, fmt.Errorf("nested too deeply")
	}
	name := p.word()
	var typ string
	var enc encoder
	switch name {
	case "STRUCT":
		if err := p.expect('('); err != nil {
			return "", nil, err
		}
		var fields []string
		var encs []encoder
		var names []string
		for !p.peek(')') {
			f, err := p.quoted()
			if err != nil {
				return "", nil, err
			}
			t, e, err := p.parse(depth + 1)
			if err != nil {
				return "", nil, err
			}
			fields = append(fields, quoteField(f)+" "+t)
			names = append(names, f)
			encs = append(encs, e)
			if !p.peek(',') {
				break
			}
			p.i++
		}
		if err := p.expect(')'); err != nil {
			return "", nil, err
		}
		typ, enc = "row("+strings.Join(fields, ", ")+")", rowEncoder(names, encs)
	case "MAP":
		if err := p.expect('('); err != nil {
			return "", nil, err
		}
		kt, ke, err := p.parse(depth + 1)
		if err != nil {
			return "", nil, err
		}
		if err := p.expect(','); err != nil {
			return "", nil, err
		}
		vt, ve, err := p.parse(depth + 1)
		if err != nil {
			return "", nil, err
		}
		if err := p.expect(')'); err != nil {
			return "", nil, err
		}
		typ, enc = "map("+kt+", "+vt+")", mapEncoder(ke, ve)
	case "DECIMAL", "NUMERIC":
		prec, scale := 18, 3
		if p.peek('(') {
			p.i++
			var err error
			if prec, err = p.number(); err != nil {
				return "", nil, err
			}
			if err = p.expect(','); err != nil {
				return "", nil, err
			}
			if scale, err = p.number(); err != nil {
				return "", nil, err
			}
			if err = p.expect(')'); err != nil {
				return "", nil, err
			}
		}
		typ, enc = fmt.Sprintf("decimal(%d,%d)", prec, scale), decimalEncoder(scale)
	default:
		var ok bool
		typ, enc, ok = p.scalar(name)
		if !ok {
			return "", nil, fmt.Errorf("type %s", name)
		}
	}
	// LIST is "T[]", ARRAY is "T[n]"; both are Trino arrays.
	for p.peek('[') {
		p.i++
		for p.i < len(p.s) && p.s[p.i] != ']' {
			p.i++
		}
		if err := p.expect(']'); err != nil {
			return "", nil, err
		}
		typ, enc = "array("+typ+")", arrayEncoder(enc)
	}
	return typ, enc, nil
}

func (p *duckTypeParser) scalar(name string) (string, encoder, bool) {
	switch name {
	case "BOOLEAN":
		return "boolean", encodeBool, true
	case "TINYINT":
		return "tinyint", encodeInt, true
	case "SMALLINT", "UTINYINT":
		return "smallint", encodeInt, true
	case "INTEGER", "USMALLINT":
		return "integer", encodeInt, true
	case "BIGINT", "UINTEGER":
		return "bigint", encodeInt, true
	case "UBIGINT":
		return "decimal(20,0)", encodeInt, true
	case "HUGEINT", "UHUGEINT", "BIGNUM":
		return "decimal(38,0)", encodeBigDecimal, true
	case "FLOAT":
		return "real", encodeFloat, true
	case "DOUBLE":
		return "double", encodeFloat, true
	case "VARCHAR", "ENUM", "BIT":
		return "varchar", encodeString, true
	case "JSON":
		return "json", encodeJSONText, true
	case "BLOB", "GEOMETRY":
		return "varbinary", encodeBinary, true
	case "UUID":
		return "uuid", encodeUUID, true
	case "DATE":
		return "date", timeEncoder("2006-01-02", nil), true
	case "TIME":
		return "time(6)", timeEncoder("15:04:05.000000", nil), true
	case "TIMETZ", "TIME WITH TIME ZONE":
		return "time(6) with time zone", timeEncoder("15:04:05.000000-07:00", nil), true
	case "TIMESTAMP_S":
		return "timestamp(0)", timeEncoder("2006-01-02 15:04:05", nil), true
	case "TIMESTAMP_MS":
		return "timestamp(3)", timeEncoder("2006-01-02 15:04:05.000", nil), true
	case "TIMESTAMP":
		return "timestamp(6)", timeEncoder("2006-01-02 15:04:05.000000", nil), true
	case "TIMESTAMP_NS":
		return "timestamp(9)", timeEncoder("2006-01-02 15:04:05.000000000", nil), true
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		loc := p.loc
		if loc == nil {
			loc = time.UTC
		}
		return "timestamp(6) with time zone", timeEncoder("2006-01-02 15:04:05.000000", loc), true
	case "INTERVAL":
		return "interval day to second", encodeInterval, true
	case "SQLNULL", "NULL":
		return "unknown", encodeString, true
	}
	return "", nil, false
}

// quoteField quotes a row field name unless it is a plain identifier.
func quoteField(f string) string {
	plain := f != ""
	for i, c := range f {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return f
	}
	return `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
}

func typeError(want string, v any) error {
	return fmt.Errorf("cannot write %T as %s", v, want)
}

func encodeBool(b []byte, v any) ([]byte, error) {
	x, ok := v.(bool)
	if !ok {
		return b, typeError("boolean", v)
	}
	return strconv.AppendBool(b, x), nil
}

func encodeInt(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		// UBIGINT is decimal(20,0): written as a string like every decimal.
		b = append(b, '"')
		b = strconv.AppendUint(b, x, 10)
		return append(b, '"'), nil
	}
	return b, typeError("integer", v)
}

// encodeBigDecimal writes HUGEINT-like values as decimal(38,0) strings; a
// value beyond 38 digits fails the query rather than being rounded.
func encodeBigDecimal(b []byte, v any) ([]byte, error) {
	x, ok := v.(*big.Int)
	if !ok {
		return b, typeError("decimal(38,0)", v)
	}
	s := x.String()
	if len(strings.TrimPrefix(s, "-")) > 38 {
		return b, trino.Errorf(trino.NumericOutOfRange, "value %s does not fit decimal(38,0); cast it to varchar or double", s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

// decimalEncoder writes decimals as strings with exactly scale digits after
// the point, as Trino does ("12.50").
func decimalEncoder(scale int) encoder {
	return func(b []byte, v any) ([]byte, error) {
		d, ok := v.(duckdb.Decimal)
		if !ok {
			return b, typeError("decimal", v)
		}
		var digits string
		neg := d.Value.Sign() < 0
		if d.Value.IsInt64() {
			n := d.Value.Int64()
			if neg {
				digits = strconv.FormatUint(uint64(-n), 10)
			} else {
				digits = strconv.FormatInt(n, 10)
			}
		} else {
			digits = new(big.Int).Abs(d.Value).String()
		}
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		b = append(b, '"')
		if neg {
			b = append(b, '-')
		}
		b = append(b, digits[:len(digits)-scale]...)
		if scale > 0 {
			b = append(b, '.')
			b = append(b, digits[len(digits)-scale:]...)
		}
		return append(b, '"'), nil
	}
}

func encodeFloat(b []byte, v any) ([]byte, error) {
	var f float64
	bits := 64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f, bits = float64(x), 32
	default:
		return b, typeError("double", v)
	}
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...), nil
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...), nil
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...), nil
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits), nil
}

func encodeString(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendJSONString(b, x), nil
	case []byte:
		return appendJSONString(b, string(x)), nil
	case fmt.Stringer:
		return appendJSONString(b, x.String()), nil
	}
	return b, typeError("varchar", v)
}

// encodeJSONText writes a json value as the string holding its JSON text.
// duckdb-go decodes JSON columns, so the text is re-encoded (object keys come
// out sorted).
func encodeJSONText(b []byte, v any) ([]byte, error) {
	if s, ok := v.(string); ok {
		if json.Valid([]byte(s)) {
			return appendJSONString(b, s), nil
		}
	}
	text, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("json value: %w", err)
	}
	return appendJSONString(b, string(text)), nil
}

func encodeBinary(b []byte, v any) ([]byte, error) {
	x, ok := v.([]byte)
	if !ok {
		if s, isStr := v.(string); isStr {
			x = []byte(s)
		} else {
			return b, typeError("varbinary", v)
		}
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, x)
	return append(b, '"'), nil
}

func encodeUUID(b []byte, v any) ([]byte, error) {
	var u []byte
	switch x := v.(type) {
	case []byte:
		u = x
	case duckdb.UUID:
		u = x[:]
	case *duckdb.UUID:
		u = x[:]
	case string:
		return appendJSONString(b, x), nil
	}
	if len(u) != 16 {
		return b, typeError("uuid", v)
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&15])
	}
	return append(b, '"'), nil
}

// timeEncoder formats time.Time values with layout; with loc set it converts
// to loc and appends the zone name, Trino's form of timestamp with time zone
// ("2024-01-31 10:00:00.000000 UTC").
func timeEncoder(layout string, loc *time.Location) encoder {
	return func(b []byte, v any) ([]byte, error) {
		t, ok := v.(time.Time)
		if !ok {
			return b, typeError("time", v)
		}
		b = append(b, '"')
		if loc != nil {
			t = t.In(loc)
			b = t.AppendFormat(b, layout)
			b = append(b, ' ')
			b = append(b, loc.String()...)
		} else {
			b = t.AppendFormat(b, layout)
		}
		return append(b, '"'), nil
	}
}

// encodeInterval writes a DuckDB interval as Trino's interval day to second
// ("1 02:03:04.500"). An interval with months has no such form.
func encodeInterval(b []byte, v any) ([]byte, error) {
	iv, ok := v.(duckdb.Interval)
	if !ok {
		return b, typeError("interval", v)
	}
	if iv.Months != 0 {
		return b, trino.Errorf(trino.NotSupported, "an interval of months cannot be returned as interval day to second; cast it to varchar")
	}
	micros := int64(iv.Days)*86_400_000_000 + iv.Micros
	neg := micros < 0
	if neg {
		micros = -micros
	}
	ms := micros / 1000
	s := fmt.Sprintf("%d %02d:%02d:%02d.%03d", ms/86_400_000, ms/3_600_000%24, ms/60_000%60, ms/1000%60, ms%1000)
	if neg {
		s = "-" + s
	}
	return appendJSONString(b, s), nil
}

func arrayEncoder(elem encoder) encoder {
	return func(b []byte, v any) ([]byte, error) {
		xs, ok := v.([]any)
		if !ok {
			return b, typeError("array", v)
		}
		b = append(b, '[')
		for i, x := range xs {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, elem, x); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
}

// rowEncoder writes a struct as a JSON array of its fields in type order,
// which is how Trino's v1 protocol carries row values.
func rowEncoder(names []string, encs []encoder) encoder {
	return func(b []byte, v any) ([]byte, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return b, typeError("row", v)
		}
		b = append(b, '[')
		for i, n := range names {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, encs[i], m[n]); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
}

// mapEncoder writes a map as a JSON object; keys become strings (a bigint key
// 1 is "1"), as Trino writes them.
func mapEncoder(key, val encoder) encoder {
	return func(b []byte, v any) ([]byte, error) {
		var keys, vals []any
		switch m := v.(type) {
		case duckdb.OrderedMap:
			keys, vals = m.Keys(), m.Values()
		case *duckdb.OrderedMap:
			keys, vals = m.Keys(), m.Values()
		case duckdb.Map:
			for k, x := range m {
				keys, vals = append(keys, k), append(vals, x)
			}
		default:
			return b, typeError("map", v)
		}
		b = append(b, '{')
		var kb []byte
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if kb, err = appendValue(kb[:0], key, k); err != nil {
				return b, err
			}
			if len(kb) > 0 && kb[0] == '"' {
				b = append(b, kb...)
			} else {
				b = appendJSONString(b, string(kb))
			}
			b = append(b, ':')
			if b, err = appendValue(b, val, vals[i]); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
}

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
