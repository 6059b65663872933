package sql

// QueryStmt is a query used as a statement.
type QueryStmt struct {
	at
	Query *Query
}

// Insert is INSERT INTO table [@ branch] [(columns)] query.
type Insert struct {
	at
	Table   *QualifiedName
	Branch  *Ident
	Columns []*Ident
	Query   *Query
}

// CreateTableAs is CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name [(columns)] … AS query [WITH [NO] DATA].
type CreateTableAs struct {
	at
	Name                 *QualifiedName
	Replace, IfNotExists bool
	Columns              []*Ident
	Props                []*Property
	Query                *Query
	NoData               bool
}

// CreateTable is CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name (elements) ….
type CreateTable struct {
	at
	Name                 *QualifiedName
	Replace, IfNotExists bool
	Columns              []*ColumnDef
	Likes                []*QualifiedName
	Props                []*Property
}

// ColumnDef is one column of CREATE TABLE or ALTER TABLE ADD COLUMN.
type ColumnDef struct {
	Name    *Ident
	Typ     *Type
	Default Expr
	NotNull bool
	Props   []*Property
}

// CreateView is CREATE [OR REPLACE] [MATERIALIZED] VIEW name … AS query.
type CreateView struct {
	at
	Name                 *QualifiedName
	Replace, IfNotExists bool
	Materialized         bool
	Props                []*Property
	Grace                Expr
	Query                *Query
}

// Delete is DELETE FROM table [@ branch] [WHERE cond].
type Delete struct {
	at
	Table  *QualifiedName
	Branch *Ident
	Where  Expr
}

// Update is UPDATE table [@ branch] SET … [WHERE cond].
type Update struct {
	at
	Table  *QualifiedName
	Branch *Ident
	Sets   []*Assignment
	Where  Expr
}

// Assignment is column = value in UPDATE and MERGE.
type Assignment struct {
	Column *Ident
	Value  Expr
}

// Merge is MERGE INTO target [@ branch] [alias] USING source ON cond WHEN ….
type Merge struct {
	at
	Target *QualifiedName
	Branch *Ident
	Alias  *Ident
	Source Relation
	On     Expr
	Cases  []*MergeCase
}

// MergeCase is WHEN [NOT] MATCHED [AND cond] THEN UPDATE|DELETE|INSERT.
type MergeCase struct {
	Matched bool
	Cond    Expr
	Action  string
	Sets    []*Assignment
	Columns []*Ident
	Values  []Expr
}

// Truncate is TRUNCATE TABLE name.
type Truncate struct {
	at
	Table *QualifiedName
}

// Explain is EXPLAIN [ANALYZE [VERBOSE]] [(options)] statement.
type Explain struct {
	at
	Analyze bool
	Options []string
	Stmt    Statement
}

// Prepare is PREPARE name FROM statement; Text is the inner statement's source.
type Prepare struct {
	at
	Name *Ident
	Stmt Statement
	Text string
}

// Execute is EXECUTE name [USING args].
type Execute struct {
	at
	Name  *Ident
	Using []Expr
}

// ExecuteImmediate is EXECUTE IMMEDIATE 'sql' [USING args]. SQL is the
// statement expression; a string literal in the common case.
type ExecuteImmediate struct {
	at
	SQL   Expr
	Using []Expr
}

// Deallocate is DEALLOCATE PREPARE name.
type Deallocate struct {
	at
	Name *Ident
}

// Describe is DESCRIBE table.
type Describe struct {
	at
	Table *QualifiedName
}

// DescribeIO is DESCRIBE INPUT|OUTPUT name, or DESCRIBE OUTPUT (query).
type DescribeIO struct {
	at
	Output bool
	Name   *Ident
	Query  *Query
}

// Show is a SHOW statement. What is upper case ("TABLES", "COLUMNS",
// "CREATE TABLE", "STATS", …). Target is what it is about; Table says whether
// Target names a table (SHOW COLUMNS, SHOW CREATE TABLE, SHOW GRANTS ON TABLE,
// SHOW BRANCHES, SHOW STATS).
type Show struct {
	at
	What   string
	Target *QualifiedName
	Table  bool
	Query  *Query // SHOW STATS FOR (query)
	Like   Expr
	Escape Expr
}

// Use is USE [catalog.]schema.
type Use struct {
	at
	Catalog, Schema *Ident
}

// SetSession is SET SESSION name = value.
type SetSession struct {
	at
	Name  *QualifiedName
	Value Expr
}

// ResetSession is RESET SESSION name.
type ResetSession struct {
	at
	Name *QualifiedName
}

// CallStmt is CALL procedure(args).
type CallStmt struct {
	at
	Name *QualifiedName
	Args []Expr
}

// Privilege is GRANT, REVOKE or DENY of privileges on an object. On is
// "TABLE", "SCHEMA" or "BRANCH" (Object is then the table, Branch the branch).
type Privilege struct {
	at
	Verb       string
	Privileges []string
	On         string
	Object     *QualifiedName
	Branch     *Ident
	Grantees   []string
}

// Comment is COMMENT ON TABLE|VIEW|COLUMN name IS text.
type Comment struct {
	at
	On   string
	Name *QualifiedName
	Text Expr
}

// Analyze is ANALYZE table [WITH (props)].
type Analyze struct {
	at
	Table *QualifiedName
	Props []*Property
}

// TableExecute is ALTER TABLE name EXECUTE procedure[(args)] [WHERE cond].
type TableExecute struct {
	at
	Table     *QualifiedName
	Procedure *Ident
	Args      []Expr
	Where     Expr
}

// Transaction is START TRANSACTION, COMMIT or ROLLBACK.
type Transaction struct {
	at
	Verb  string
	Modes []string
}

// DDL is the family of statements that change or name catalog objects without
// a query body: CREATE/ALTER/DROP of schemas, catalogs, roles, functions,
// branches and views, ALTER TABLE …, REFRESH MATERIALIZED VIEW, and session
// statements such as SET TIME ZONE. Kind is the statement kind
// ("drop_table", "rename_view", "set_time_zone", …); Object says what Name
// names ("table", "view", "materialized_view", "schema", "catalog", "role",
// "function", …). For branch statements Object is "table" and Name the table.
type DDL struct {
	at
	Kind     string
	Object   string
	Name     *QualifiedName
	NewName  *QualifiedName
	Exprs    []Expr
	Props    []*Property
	Column   *ColumnDef
	Function *Function
}

func (*QueryStmt) statement()        {}
func (*Insert) statement()           {}
func (*CreateTableAs) statement()    {}
func (*CreateTable) statement()      {}
func (*CreateView) statement()       {}
func (*Delete) statement()           {}
func (*Update) statement()           {}
func (*Merge) statement()            {}
func (*Truncate) statement()         {}
func (*Explain) statement()          {}
func (*Prepare) statement()          {}
func (*Execute) statement()          {}
func (*ExecuteImmediate) statement() {}
func (*Deallocate) statement()       {}
func (*Describe) statement()         {}
func (*DescribeIO) statement()       {}
func (*Show) statement()             {}
func (*Use) statement()              {}
func (*SetSession) statement()       {}
func (*ResetSession) statement()     {}
func (*CallStmt) statement()         {}
func (*Privilege) statement()        {}
func (*Comment) statement()          {}
func (*Analyze) statement()          {}
func (*TableExecute) statement()     {}
func (*Transaction) statement()      {}
func (*DDL) statement()              {}
