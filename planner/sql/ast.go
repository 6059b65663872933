package sql

import "strings"

// Node is any syntax tree node; Position is where its text starts.
type Node interface{ Position() Pos }

// Expr is a scalar expression.
type Expr interface {
	Node
	expr()
}

// Relation is an item of a FROM clause.
type Relation interface {
	Node
	relation()
}

// QueryBody is a SELECT, set operation, VALUES, TABLE t or parenthesised query.
type QueryBody interface {
	Node
	queryBody()
}

// Statement is one complete SQL statement.
type Statement interface {
	Node
	statement()
}

type at struct{ P Pos }

func (a at) Position() Pos { return a.P }

// Ident is one identifier as written. Trino compares names case-insensitively,
// quoted or not, so Norm lower-cases.
type Ident struct {
	at
	Name   string
	Quoted bool
}

// Norm is the identifier's canonical (lower-case) name.
func (id *Ident) Norm() string { return strings.ToLower(id.Name) }

// QualifiedName is a dotted name such as catalog.schema.table.
type QualifiedName struct {
	at
	Parts []*Ident
}

// String is the canonical dotted form, lower-case.
func (q *QualifiedName) String() string {
	if q == nil {
		return ""
	}
	var b strings.Builder
	for i, p := range q.Parts {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.Norm())
	}
	return b.String()
}

// ---- Expressions ----

// Name is an identifier chain in an expression: a column, alias.column or
// catalog.schema.table.column.
type Name struct {
	at
	Parts []*Ident
}

// LitKind classifies literals.
type LitKind uint8

// Literal kinds.
const (
	LitString LitKind = iota
	LitNumber
	LitBool
	LitNull
	LitBinary
	LitTyped    // DATE '2024-01-01', TIMESTAMP '…', DECIMAL '1.2', JSON '…'
	LitInterval // INTERVAL '1' DAY
)

// Literal is a constant. Value is the decoded text; Type names the type of a
// typed literal; for intervals Type holds the fields ("DAY", "HOUR TO SECOND").
type Literal struct {
	at
	Kind  LitKind
	Value string
	Type  string
	Neg   bool // interval sign
}

// Param is a positional parameter '?'.
type Param struct {
	at
	Index int
}

// Unary is a prefix operator: "-", "+", "NOT".
type Unary struct {
	at
	Op string
	X  Expr
}

// Binary is an infix operator: arithmetic, comparison, AND, OR, ||, and
// "IS DISTINCT FROM" / "IS NOT DISTINCT FROM". In a simple CASE's extended WHEN
// (WHEN > 100) L is nil.
type Binary struct {
	at
	Op   string
	L, R Expr
}

// Like is [NOT] LIKE with an optional ESCAPE.
type Like struct {
	at
	X, Pattern, Escape Expr
	Not                bool
}

// Between is [NOT] BETWEEN [SYMMETRIC|ASYMMETRIC] lo AND hi.
type Between struct {
	at
	X, Lo, Hi Expr
	Not       bool
}

// In is x [NOT] IN (list) or x [NOT] IN (query).
type In struct {
	at
	X     Expr
	List  []Expr
	Query *Query
	Not   bool
}

// IsNull is x IS [NOT] NULL.
type IsNull struct {
	at
	X   Expr
	Not bool
}

// Exists is EXISTS (query).
type Exists struct {
	at
	Query *Query
}

// Subquery is a scalar subquery (query) in an expression.
type Subquery struct {
	at
	Query *Query
}

// Quantified is x op ALL|ANY|SOME (query).
type Quantified struct {
	at
	X          Expr
	Op         string
	Quantifier string
	Query      *Query
}

// Case is CASE [operand] WHEN … THEN … [ELSE …] END.
type Case struct {
	at
	Operand Expr
	Whens   []*When
	Else    Expr
}

// When is one WHEN cond THEN result arm.
type When struct {
	at
	Cond, Result Expr
}

// Cast is CAST or TRY_CAST (x AS type).
type Cast struct {
	at
	X   Expr
	Typ *Type
	Try bool
}

// Call is a function call, including aggregates and window functions, and the
// special forms Trino desugars into calls (SUBSTRING … FROM … FOR, POSITION,
// TRIM, NORMALIZE, EXTRACT, LISTAGG).
type Call struct {
	at
	Name     *QualifiedName
	Args     []Expr
	Distinct bool
	OrderBy  []*SortItem // aggregate ORDER BY or WITHIN GROUP
	Filter   Expr
	Over     *Window
	Receiver Expr // method-call syntax: receiver.method(args)
	Measure  bool // a row-pattern measure reference (name OVER w), not a function
}

// FuncName is the call's canonical name.
func (c *Call) FuncName() string { return c.Name.String() }

// NamedArg is name => value in a call.
type NamedArg struct {
	at
	Name  *Ident
	Value Expr
}

// Lambda is x -> body or (x, y) -> body.
type Lambda struct {
	at
	Params []*Ident
	Body   Expr
}

// Subscript is x[index].
type Subscript struct {
	at
	X, Index Expr
}

// Dereference is x.field where x is not a plain identifier chain.
type Dereference struct {
	at
	X     Expr
	Field *Ident
}

// Array is ARRAY[elems].
type Array struct {
	at
	Elems []Expr
}

// Row is ROW(elems) or (a, b); Names holds ROW(x AS name) field names.
type Row struct {
	at
	Elems []Expr
	Names []*Ident
}

// AtTimeZone is x AT TIME ZONE zone, or x AT LOCAL (Zone nil).
type AtTimeZone struct {
	at
	X, Zone Expr
}

// Current is a niladic special value: CURRENT_DATE, CURRENT_USER, LOCALTIMESTAMP(3)…
type Current struct {
	at
	Name      string
	Precision Expr
}

// JSONFunc is JSON_EXISTS, JSON_VALUE, JSON_QUERY, JSON_ARRAY or JSON_OBJECT;
// Args holds every expression inside, clauses aside.
type JSONFunc struct {
	at
	Name string
	Args []Expr
}

// Descriptor is DESCRIPTOR(a, b) in a table function call.
type Descriptor struct {
	at
	Names []*Ident
}

// TableArg is TABLE(relation) [PARTITION BY …] [ORDER BY …] passed to a table function.
type TableArg struct {
	at
	Rel         Relation
	PartitionBy []Expr
	OrderBy     []*SortItem
}

// Type is a data type: Name in lower case ("varchar", "timestamp with time
// zone", "row", "array", "interval day to second"), with parameters.
type Type struct {
	at
	Name   string
	Args   []*TypeArg
	Fields []*RowField
}

// TypeArg is a numeric or type parameter of a parametric type.
type TypeArg struct {
	Number string
	Type   *Type
}

// RowField is a field of row(name type, …).
type RowField struct {
	Name *Ident
	Type *Type
}

// Window is OVER w or OVER (spec).
type Window struct {
	at
	Ref  *Ident
	Spec *WindowSpec
}

// WindowSpec is a window specification.
type WindowSpec struct {
	at
	Existing    *Ident
	PartitionBy []Expr
	OrderBy     []*SortItem
	Frame       *Frame
	Measures    []*Measure
	Defines     []*Measure
}

// Frame is ROWS|RANGE|GROUPS BETWEEN start AND end.
type Frame struct {
	Unit       string
	Start, End *FrameBound
}

// FrameBound is UNBOUNDED PRECEDING, n FOLLOWING, CURRENT ROW…
type FrameBound struct {
	Kind  string
	Value Expr
}

// Measure is expr AS name in MEASURES, or name AS expr in DEFINE.
type Measure struct {
	Expr Expr
	Name *Ident
}

// SortItem is expr [ASC|DESC] [NULLS FIRST|LAST].
type SortItem struct {
	Expr  Expr
	Desc  bool
	Nulls string
}

func (*Name) expr()        {}
func (*Literal) expr()     {}
func (*Param) expr()       {}
func (*Unary) expr()       {}
func (*Binary) expr()      {}
func (*Like) expr()        {}
func (*Between) expr()     {}
func (*In) expr()          {}
func (*IsNull) expr()      {}
func (*Exists) expr()      {}
func (*Subquery) expr()    {}
func (*Quantified) expr()  {}
func (*Case) expr()        {}
func (*Cast) expr()        {}
func (*Call) expr()        {}
func (*NamedArg) expr()    {}
func (*Lambda) expr()      {}
func (*Subscript) expr()   {}
func (*Dereference) expr() {}
func (*Array) expr()       {}
func (*Row) expr()         {}
func (*AtTimeZone) expr()  {}
func (*Current) expr()     {}
func (*JSONFunc) expr()    {}
func (*Descriptor) expr()  {}
func (*TableArg) expr()    {}

// ---- Queries ----

// Query is [WITH …] body [ORDER BY …] [OFFSET n] [LIMIT n | FETCH FIRST n ROWS …].
type Query struct {
	at
	With    *With
	Body    QueryBody
	OrderBy []*SortItem
	Offset  Expr
	Limit   Expr // nil for no LIMIT and for LIMIT ALL
	Fetch   Expr
}

// With is the WITH clause: common table expressions, inline functions and
// session properties.
type With struct {
	Recursive bool
	CTEs      []*CTE
	Functions []*Function
	Session   []*Property
}

// CTE is name [(columns)] AS (query).
type CTE struct {
	at
	Name    *Ident
	Columns []*Ident
	Query   *Query
}

// Function is an SQL routine (WITH FUNCTION or CREATE FUNCTION); Body holds the
// expressions of its RETURN and statements.
type Function struct {
	at
	Name *QualifiedName
	Body []Expr
}

// Property is name = value in WITH (…) or SET PROPERTIES.
type Property struct {
	Name  *QualifiedName
	Value Expr // nil for DEFAULT
}

// Select is one SELECT block.
type Select struct {
	at
	Distinct bool
	Items    []SelectItem
	From     []Relation
	Where    Expr
	GroupBy  *GroupBy
	Having   Expr
	Windows  []*WindowDef
}

// SelectItem is a SELECT list entry: *SingleColumn or *AllColumns.
type SelectItem interface {
	Node
	selectItem()
}

// SingleColumn is expr [AS alias].
type SingleColumn struct {
	at
	Expr  Expr
	Alias *Ident
}

// AllColumns is * or prefix.* [AS (aliases)].
type AllColumns struct {
	at
	Prefix  Expr
	Aliases []*Ident
}

func (*SingleColumn) selectItem() {}
func (*AllColumns) selectItem()   {}

// GroupBy is GROUP BY [ALL|DISTINCT] elements, or GROUP BY AUTO.
type GroupBy struct {
	Distinct bool
	Auto     bool
	Elements []*GroupingElement
}

// GroupingElement is a plain expression list, ROLLUP, CUBE or GROUPING SETS.
type GroupingElement struct {
	Kind string // "", "ROLLUP", "CUBE", "GROUPING SETS"
	Sets [][]Expr
}

// WindowDef is WINDOW name AS (spec).
type WindowDef struct {
	Name *Ident
	Spec *WindowSpec
}

// SetOp is UNION, INTERSECT or EXCEPT.
type SetOp struct {
	at
	Op            string
	All           bool
	Corresponding bool
	Left, Right   QueryBody
}

// Values is VALUES row, row…
type Values struct {
	at
	Rows []Expr
}

// TableQuery is TABLE name.
type TableQuery struct {
	at
	Name *QualifiedName
}

// ParenQuery is a parenthesised query used as a query body.
type ParenQuery struct {
	at
	Query *Query
}

func (*Select) queryBody()     {}
func (*SetOp) queryBody()      {}
func (*Values) queryBody()     {}
func (*TableQuery) queryBody() {}
func (*ParenQuery) queryBody() {}

// ---- Relations ----

// Table is a table reference, optionally at a branch (t @ b) or a point in
// time (FOR VERSION|TIMESTAMP AS OF).
type Table struct {
	at
	Name   *QualifiedName
	Branch *Ident
	Period string // "VERSION" or "TIMESTAMP"
	AsOf   Expr
}

// Aliased is relation [AS] alias [(columns)].
type Aliased struct {
	at
	Rel     Relation
	Alias   *Ident
	Columns []*Ident
}

// Sampled is relation TABLESAMPLE method (percent).
type Sampled struct {
	at
	Rel     Relation
	Method  string
	Percent Expr
}

// Join is a join of two relations.
type Join struct {
	at
	Type        string // "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "IMPLICIT"
	Natural     bool
	Left, Right Relation
	On          Expr
	Using       []*Ident
}

// SubqueryRel is (query) in FROM; Lateral marks LATERAL (query).
type SubqueryRel struct {
	at
	Query   *Query
	Lateral bool
}

// Unnest is UNNEST(exprs) [WITH ORDINALITY].
type Unnest struct {
	at
	Exprs      []Expr
	Ordinality bool
}

// TableFunction is TABLE(name(args)) in FROM.
type TableFunction struct {
	at
	Name *QualifiedName
	Args []Expr
}

// JSONTable is JSON_TABLE(…) in FROM; Args holds every expression inside.
type JSONTable struct {
	at
	Args []Expr
}

// MatchRecognize is relation MATCH_RECOGNIZE (…).
type MatchRecognize struct {
	at
	Rel  Relation
	Spec *WindowSpec
}

// Nearest is NEAREST (FROM relation [WHERE cond] MATCH cond), a join partner.
type Nearest struct {
	at
	Rel   Relation
	Where Expr
	Match Expr
}

func (*Table) relation()          {}
func (*Aliased) relation()        {}
func (*Sampled) relation()        {}
func (*Join) relation()           {}
func (*SubqueryRel) relation()    {}
func (*Unnest) relation()         {}
func (*TableFunction) relation()  {}
func (*JSONTable) relation()      {}
func (*MatchRecognize) relation() {}
func (*Nearest) relation()        {}
