package trino

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// TypeSignature is the structured form of a Trino type that clients use to
// decode values: decimal(10,2) is rawType "decimal" with two LONG arguments.
type TypeSignature struct {
	RawType   string         `json:"rawType"`
	Arguments []TypeArgument `json:"arguments"`
}

// Argument kinds of a TypeSignature.
const (
	KindLong      = "LONG"
	KindType      = "TYPE"
	KindNamedType = "NAMED_TYPE"
)

// TypeArgument is one argument of a TypeSignature: a number (LONG), a nested
// type (TYPE) or a named row field (NAMED_TYPE).
type TypeArgument struct {
	Kind  string
	Long  int64
	Type  *TypeSignature
	Field string          // NAMED_TYPE field name
	Raw   json.RawMessage // the value of a kind this package does not know
}

type namedType struct {
	FieldName     *fieldName     `json:"fieldName,omitempty"`
	TypeSignature *TypeSignature `json:"typeSignature"`
}

type fieldName struct {
	Name string `json:"name"`
}

// MarshalJSON writes the {"kind","value"} form clients expect.
func (a TypeArgument) MarshalJSON() ([]byte, error) {
	var v any
	switch a.Kind {
	case KindLong:
		v = a.Long
	case KindType:
		v = a.Type
	case KindNamedType:
		nt := namedType{TypeSignature: a.Type}
		if a.Field != "" {
			nt.FieldName = &fieldName{a.Field}
		}
		v = nt
	default:
		v = a.Raw
	}
	return json.Marshal(struct {
		Kind  string `json:"kind"`
		Value any    `json:"value"`
	}{a.Kind, v})
}

// UnmarshalJSON reads the {"kind","value"} form.
func (a *TypeArgument) UnmarshalJSON(b []byte) error {
	var raw struct {
		Kind  string          `json:"kind"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	// Trino before 3xx named the kinds LONG_LITERAL, TYPE_SIGNATURE and
	// NAMED_TYPE_SIGNATURE.
	switch raw.Kind {
	case "LONG_LITERAL":
		raw.Kind = KindLong
	case "TYPE_SIGNATURE":
		raw.Kind = KindType
	case "NAMED_TYPE_SIGNATURE":
		raw.Kind = KindNamedType
	}
	a.Kind = raw.Kind
	switch raw.Kind {
	case KindLong:
		return json.Unmarshal(raw.Value, &a.Long)
	case KindType:
		a.Type = new(TypeSignature)
		return json.Unmarshal(raw.Value, a.Type)
	case KindNamedType:
		var nt namedType
		if err := json.Unmarshal(raw.Value, &nt); err != nil {
			return err
		}
		a.Type = nt.TypeSignature
		if nt.FieldName != nil {
			a.Field = nt.FieldName.Name
		}
		return nil
	}
	a.Raw = raw.Value // decode leniently; pass it through as it came
	return nil
}

// MaxTypeLength bounds the type text ParseType accepts.
const MaxTypeLength = 64 << 10

// ParseType parses a Trino type as it appears in Column.Type, such as
// "decimal(12,2)", "timestamp(6) with time zone", "array(row(a bigint, b
// varchar))" or "map(varchar, double)", into its signature.
func ParseType(s string) (TypeSignature, error) {
	if len(s) > MaxTypeLength {
		return TypeSignature{}, fmt.Errorf("trino: type text longer than %d bytes", MaxTypeLength)
	}
	p := typeParser{s: s}
	t, err := p.parse(0)
	if err != nil {
		return TypeSignature{}, err
	}
	p.space()
	if p.i != len(p.s) {
		return TypeSignature{}, fmt.Errorf("trino: unexpected %q at offset %d of type %q", p.s[p.i:], p.i, s)
	}
	return t, nil
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// word reads an identifier or a quoted identifier.
func (p *typeParser) word() string {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		for p.i++; p.i < len(p.s); p.i++ {
			if p.s[p.i] == '"' {
				if p.i+1 < len(p.s) && p.s[p.i+1] == '"' {
					b.WriteByte('"')
					p.i++
					continue
				}
				p.i++
				return b.String()
			}
			b.WriteByte(p.s[p.i])
		}
		return b.String()
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '(' || c == ')' || c == ',' || c == ' ' {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

func (p *typeParser) parse(depth int) (TypeSignature, error) {
	if depth > 100 {
		return TypeSignature{}, fmt.Errorf("trino: type %q nested too deeply", p.s)
	}
	name := strings.ToLower(p.word())
	if name == "" {
		return TypeSignature{}, fmt.Errorf("trino: missing type name at offset %d of %q", p.i, p.s)
	}
	switch name {
	case "double":
		p.peekWords("precision") // "double precision" is double
	case "interval":
		switch {
		case p.peekWords("day", "to", "second"):
			name = "interval day to second"
		case p.peekWords("year", "to", "month"):
			name = "interval year to month"
		}
	}
	t := TypeSignature{RawType: name, Arguments: []TypeArgument{}}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		for {
			arg, err := p.argument(name, depth)
			if err != nil {
				return TypeSignature{}, err
			}
			t.Arguments = append(t.Arguments, arg)
			p.space()
			if p.i >= len(p.s) {
				return TypeSignature{}, fmt.Errorf("trino: unterminated type %q", p.s)
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			return TypeSignature{}, fmt.Errorf("trino: unexpected %q in type %q", p.s[p.i], p.s)
		}
	}
	if name == "timestamp" || name == "time" {
		if p.peekWords("with", "time", "zone") {
			t.RawType = name + " with time zone"
		} else {
			p.peekWords("without", "time", "zone") // the default
		}
	}
	return t, nil
}

// peekWords consumes the given words if they follow, case-insensitively.
func (p *typeParser) peekWords(words ...string) bool {
	save := p.i
	for _, w := range words {
		if !strings.EqualFold(p.word(), w) {
			p.i = save
			return false
		}
	}
	return true
}

func (p *typeParser) argument(outer string, depth int) (TypeArgument, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i > start {
		n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
		if err != nil {
			return TypeArgument{}, fmt.Errorf("trino: bad number in type %q: %v", p.s, err)
		}
		return TypeArgument{Kind: KindLong, Long: n}, nil
	}
	if outer == "row" {
		// "name type" or just "type".
		save := p.i
		field := p.word()
		p.space()
		if field != "" && p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ')' && p.s[p.i] != '(' {
			t, err := p.parse(depth + 1)
			if err != nil {
				return TypeArgument{}, err
			}
			return TypeArgument{Kind: KindNamedType, Field: field, Type: &t}, nil
		}
		p.i = save
		t, err := p.parse(depth + 1)
		if err != nil {
			return TypeArgument{}, err
		}
		return TypeArgument{Kind: KindNamedType, Type: &t}, nil
	}
	t, err := p.parse(depth + 1)
	if err != nil {
		return TypeArgument{}, err
	}
	return TypeArgument{Kind: KindType, Type: &t}, nil
}
