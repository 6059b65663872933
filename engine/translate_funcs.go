package engine

import (
	"fmt"
	"strings"

	ast "github.com/meridian-lake/meridian/planner/sql"
)

// sameFunctions are Trino functions DuckDB has under the same name with the
// same meaning for the argument types analysts use. Anything not here or in
// renamedFunctions is refused: passing an unknown name on could run a
// DuckDB function that means something else.
var sameFunctions = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`
		abs acos asin atan atan2 cbrt ceil ceiling cos cosh degrees exp floor ln log log2 log10
		mod pi pow power radians round sign sin sinh sqrt tan tanh
		avg count count_if sum min max max_by min_by bool_and bool_or arbitrary any_value
		stddev stddev_pop stddev_samp variance var_pop var_samp corr covar_pop covar_samp
		regr_slope regr_intercept array_agg grouping
		row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
		coalesce nullif greatest least if
		length lower upper ltrim rtrim trim lpad rpad replace reverse strpos substr substring
		starts_with concat concat_ws chr translate levenshtein hamming_distance regexp_extract
		year quarter month week day hour minute second date_trunc date_diff
		`) {
		sameFunctions[f] = true
	}
}

// renamedFunctions are Trino functions DuckDB has under another name.
var renamedFunctions = map[string]string{
	"approx_distinct":     "approx_count_distinct",
	"approx_percentile":   "approx_quantile",
	"every":               "bool_and",
	"truncate":            "trunc",
	"cardinality":         "len",
	"contains":            "list_contains",
	"array_join":          "array_to_string",
	"split":               "string_split",
	"regexp_like":         "regexp_matches",
	"day_of_week":         "isodow",
	"dow":                 "isodow",
	"day_of_month":        "day",
	"day_of_year":         "dayofyear",
	"doy":                 "dayofyear",
	"year_of_week":        "isoyear",
	"yow":                 "isoyear",
	"week_of_year":        "week",
	"to_unixtime":         "epoch",
	"from_unixtime":       "to_timestamp",
	"char_length":         "length",
	"character_length":    "length",
	"position":            "strpos",
	"listagg":             "string_agg",
	"stddev_population":   "stddev_pop",
	"variance_samp":       "var_samp",
	"bitwise_and_agg":     "bit_and",
	"bitwise_or_agg":      "bit_or",
	"from_iso8601_date":   "", // special-cased below
	"date":                "",
	"extract":             "",
	"date_add":            "",
	"regexp_replace":      "",
	"current_timezone":    "",
	"now":                 "",
	"localtimestamp":      "",
	"current_timestamp":   "",
	"with_timezone":       "",
	"format_datetime":     "",
	"date_format":         "",
	"date_parse":          "",
	"json_extract":        "",
	"json_extract_scalar": "",
}

// extractFields maps Trino EXTRACT fields to DuckDB's date parts.
var extractFields = map[string]string{
	"YEAR": "year", "QUARTER": "quarter", "MONTH": "month", "WEEK": "week", "DAY": "day",
	"DAY_OF_MONTH": "day", "DAY_OF_WEEK": "isodow", "DOW": "isodow", "DAY_OF_YEAR": "doy",
	"DOY": "doy", "YEAR_OF_WEEK": "isoyear", "YOW": "isoyear", "HOUR": "hour", "MINUTE": "minute",
	"SECOND": "second", "TIMEZONE_HOUR": "timezone_hour", "TIMEZONE_MINUTE": "timezone_minute",
}

// dateAddUnits are the units of date_add and date_diff.
var dateAddUnits = map[string]bool{
	"millisecond": true, "second": true, "minute": true, "hour": true, "day": true,
	"week": true, "month": true, "quarter": true, "year": true,
}

func (c *compiler) call(x *ast.Call) {
	if x.Measure {
		c.unsupported(x.Position(), "row pattern measures")
		return
	}
	if x.Receiver != nil {
		c.unsupported(x.Position(), "method-call syntax")
		return
	}
	if len(x.Name.Parts) != 1 {
		c.unsupported(x.Position(), "function "+x.Name.String())
		return
	}
	name := x.FuncName()
	for _, a := range x.Args {
		if _, ok := a.(*ast.NamedArg); ok {
			c.unsupported(a.Position(), "named arguments")
			return
		}
	}
	switch name {
	case "extract":
		field := x.Args[0].(*ast.Literal).Value
		part, ok := extractFields[field]
		if !ok {
			c.unsupported(x.Position(), "EXTRACT("+field+" …)")
			return
		}
		c.w("extract(", part, " FROM ")
		c.expr(x.Args[1])
		c.w(")")
		return
	case "date", "from_iso8601_date":
		if len(x.Args) != 1 {
			break
		}
		c.w("CAST(")
		c.expr(x.Args[0])
		c.w(" AS DATE)")
		return
	case "date_add":
		unit, ok := unitArg(x)
		if !ok || len(x.Args) != 3 {
			c.unsupported(x.Position(), "date_add with a unit that is not a literal")
			return
		}
		wrapDate := c.isDate(x.Args[2]) && (unit == "day" || unit == "week" || unit == "month" || unit == "quarter" || unit == "year")
		if wrapDate {
			c.w("CAST(")
		}
		c.w("(")
		c.expr(x.Args[2])
		c.w(" + CAST(")
		c.expr(x.Args[1])
		c.w(" AS BIGINT) * INTERVAL '1 ", unit, "')")
		if wrapDate {
			c.w(" AS DATE)")
		}
		return
	case "date_diff", "date_trunc":
		if _, ok := unitArg(x); !ok {
			c.unsupported(x.Position(), name+" with a unit that is not a literal")
			return
		}
	case "regexp_replace":
		// Trino replaces every match and writes groups as $1; DuckDB
		// replaces the first unless told 'g' and writes \1.
		if len(x.Args) == 3 {
			if r, ok := x.Args[2].(*ast.Literal); !ok || r.Kind != ast.LitString || strings.ContainsAny(r.Value, `$\`) {
				c.unsupported(x.Position(), "regexp_replace with group references")
				return
			}
		}
		if len(x.Args) < 2 || len(x.Args) > 3 {
			break
		}
		c.w("regexp_replace(")
		c.exprs(x.Args)
		if len(x.Args) == 2 {
			c.w(", ''")
		}
		c.w(", 'g')")
		return
	case "typeof":
		// DuckDB's type names in Trino's lower case: bigint, varchar,
		// decimal(15,2) (timestamps lack Trino's precision suffix).
		if len(x.Args) == 1 {
			c.w("lower(typeof(")
			c.expr(x.Args[0])
			c.w("))")
			return
		}
	case "avg":
		// Trino averages decimal(p,s) as decimal(p,s), rounding half up;
		// DuckDB as a double. For a decimal column the exact Trino value is
		// computed from the sum and count.
		if len(x.Args) == 1 && !x.Distinct && x.Filter == nil && x.Over == nil && len(x.OrderBy) == 0 {
			if n, ok := x.Args[0].(*ast.Name); ok {
				if p, sc, ok := decimalType(c.columnType(n)); ok {
					c.avgDecimal(n, p, sc)
					return
				}
			}
		}
	case "sum":
		// Trino sums integers as bigint; DuckDB as a 128-bit integer.
		if len(x.Args) == 1 && !x.Distinct && c.isInteger(x.Args[0]) {
			c.w("CAST(sum(")
			c.expr(x.Args[0])
			c.w(")")
			c.callSuffix(x)
			c.w(" AS BIGINT)")
			return
		}
	case "count":
		if len(x.Args) == 0 {
			c.w("count(*)")
			c.callSuffix(x)
			return
		}
	case "log":
		// Trino's log(b, x) is DuckDB's log(b, x); log(x) does not exist in Trino.
	}
	target := name
	if r, ok := renamedFunctions[name]; ok {
		if r == "" {
			c.unsupported(x.Position(), "function "+name)
			return
		}
		target = r
	} else if !sameFunctions[name] {
		c.unsupported(x.Position(), "function "+name)
		return
	}
	c.w(target, "(")
	if x.Distinct {
		c.w("DISTINCT ")
	}
	c.exprs(x.Args)
	if len(x.OrderBy) > 0 {
		c.w(" ORDER BY ")
		c.sortItems(x.OrderBy)
	}
	c.w(")")
	c.callSuffix(x)
}

// callSuffix prints FILTER and OVER.
func (c *compiler) callSuffix(x *ast.Call) {
	if x.Filter != nil {
		c.w(" FILTER (WHERE ")
		c.expr(x.Filter)
		c.w(")")
	}
	if x.Over != nil {
		c.window(x.Over)
	}
}

// unitArg checks the literal unit of date_add, date_diff and date_trunc.
func unitArg(x *ast.Call) (string, bool) {
	if len(x.Args) < 2 {
		return "", false
	}
	l, ok := x.Args[0].(*ast.Literal)
	if !ok || l.Kind != ast.LitString {
		return "", false
	}
	u := strings.ToLower(strings.TrimSpace(l.Value))
	return u, dateAddUnits[u]
}

// typeName maps a Trino type to DuckDB's.
func (c *compiler) typeName(t *ast.Type) string {
	if t == nil {
		return "VARCHAR"
	}
	arg := func(i int) string {
		if i < len(t.Args) {
			return t.Args[i].Number
		}
		return ""
	}
	switch t.Name {
	case "boolean":
		return "BOOLEAN"
	case "tinyint", "smallint", "bigint", "date", "uuid", "double", "real":
		if t.Name == "real" {
			return "FLOAT"
		}
		return strings.ToUpper(t.Name)
	case "integer", "int":
		return "INTEGER"
	case "varchar", "char", "json":
		return "VARCHAR"
	case "varbinary":
		return "BLOB"
	case "decimal", "numeric":
		p, s := arg(0), arg(1)
		if p == "" {
			p = "38"
		}
		if s == "" {
			s = "0"
		}
		return fmt.Sprintf("DECIMAL(%s,%s)", p, s)
	case "timestamp":
		return "TIMESTAMP"
	case "timestamp with time zone":
		return "TIMESTAMPTZ"
	case "time":
		return "TIME"
	case "array":
		if len(t.Args) == 1 && t.Args[0].Type != nil {
			return c.typeName(t.Args[0].Type) + "[]"
		}
	case "map":
		if len(t.Args) == 2 && t.Args[0].Type != nil && t.Args[1].Type != nil {
			return "MAP(" + c.typeName(t.Args[0].Type) + ", " + c.typeName(t.Args[1].Type) + ")"
		}
	case "row":
		var b strings.Builder
		b.WriteString("STRUCT(")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			name := fmt.Sprintf("field%d", i)
			if f.Name != nil {
				name = f.Name.Norm()
			}
			b.WriteString(quote(name) + " " + c.typeName(f.Type))
		}
		b.WriteString(")")
		return b.String()
	}
	c.unsupported(t.Position(), "type "+t.Name)
	return "VARCHAR"
}

// isInteger reports whether x is known to be of an integer type.
func (c *compiler) isInteger(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.Name:
		t := c.columnType(x)
		return t == "int" || t == "long"
	case *ast.Literal:
		return x.Kind == ast.LitNumber && !strings.ContainsAny(x.Value, ".eE")
	case *ast.Cast:
		switch x.Typ.Name {
		case "tinyint", "smallint", "integer", "int", "bigint":
			return true
		}
	case *ast.Unary:
		return x.Op == "-" && c.isInteger(x.X)
	case *ast.Binary:
		switch x.Op {
		case "+", "-", "*", "%":
			return c.isInteger(x.L) && c.isInteger(x.R)
		}
	}
	return false
}

// decimalType parses an Iceberg "decimal(p, s)".
func decimalType(t string) (int, int, bool) {
	var p, s int
	if _, err := fmt.Sscanf(strings.ReplaceAll(t, " ", ""), "decimal(%d,%d)", &p, &s); err != nil {
		return 0, 0, false
	}
	return p, s, p > 0 && p <= 38 && s >= 0 && s <= p
}

// avgDecimal prints Trino's avg of a decimal(p,s) column: the sum's unscaled
// value divided by the count, rounded half away from zero, at scale s.
func (c *compiler) avgDecimal(x *ast.Name, p, s int) {
	saved := c.b.String()
	c.b.Reset()
	c.expr(x)
	v := c.b.String()
	c.b.Reset()
	c.b.WriteString(saved)
	unscaled := fmt.Sprintf("CAST(abs(sum(%s)) * %s AS HUGEINT)", v, "1"+strings.Repeat("0", s))
	n := fmt.Sprintf("count(%s)", v)
	rounded := fmt.Sprintf("sign(sum(%s)) * ((%s * 2 + %s) // (2 * %s))", v, unscaled, n, n)
	if s == 0 {
		c.w(fmt.Sprintf("CAST(%s AS DECIMAL(%d,0))", rounded, p))
		return
	}
	unit := "0." + strings.Repeat("0", s-1) + "1"
	c.w(fmt.Sprintf("CAST(CAST(%s AS DECIMAL(38,0)) * CAST('%s' AS DECIMAL(%d,%d)) AS DECIMAL(%d,%d))", rounded, unit, s+1, s, p, s))
}
