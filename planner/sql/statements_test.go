package sql_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/planner/sql"
)

func prop(name string, v sql.Expr) *sql.Property {
	return &sql.Property{Name: qname(name), Value: v}
}

func ddl(kind, object string, name *sql.QualifiedName) *sql.DDL {
	return &sql.DDL{Kind: kind, Object: object, Name: name}
}

func TestStatements(t *testing.T) {
	a, b := name("a"), name("b")
	selectA := query(&sql.Select{Items: []sql.SelectItem{col(a)}, From: []sql.Relation{table("t")}})
	tests := []struct {
		name string
		src  string
		want sql.Statement
	}{
		// Writes.
		{"INSERT with columns", "INSERT INTO c.s.t (a, b) SELECT a FROM t", &sql.Insert{Table: qname("c", "s", "t"), Columns: []*sql.Ident{id("a"), id("b")}, Query: selectA}},
		{"INSERT into a branch", "INSERT INTO t @ dev VALUES 1", &sql.Insert{Table: qname("t"), Branch: id("dev"), Query: query(&sql.Values{Rows: []sql.Expr{num("1")}})}},
		{"INSERT a parenthesised query", "INSERT INTO t (SELECT 1)", &sql.Insert{Table: qname("t"), Query: query(&sql.ParenQuery{Query: query(sel("1"))})}},
		{"CTAS with column aliases and WITH NO DATA", "CREATE TABLE IF NOT EXISTS t (x, y) COMMENT 'c' WITH (format = 'ORC') AS SELECT a FROM t WITH NO DATA", &sql.CreateTableAs{
			Name: qname("t"), IfNotExists: true, Columns: []*sql.Ident{id("x"), id("y")}, Props: []*sql.Property{prop("format", str("ORC"))}, Query: selectA, NoData: true,
		}},
		{"CTAS of a parenthesised query", "CREATE OR REPLACE TABLE t AS (SELECT a FROM t) WITH DATA", &sql.CreateTableAs{Name: qname("t"), Replace: true, Query: selectA}},
		{"CTAS of a parenthesised set operation", "CREATE TABLE t AS (SELECT 1) UNION (SELECT 2)", &sql.CreateTableAs{Name: qname("t"), Query: query(&sql.SetOp{
			Op: "UNION", Left: &sql.ParenQuery{Query: query(sel("1"))}, Right: &sql.ParenQuery{Query: query(sel("2"))},
		})}},
		{"CREATE TABLE with LIKE", "CREATE TABLE t (a bigint NOT NULL DEFAULT 1 COMMENT 'x' WITH (p = 1), b varchar(10), LIKE u INCLUDING PROPERTIES) WITH (partitioning = ARRAY['a'])", &sql.CreateTable{
			Name: qname("t"),
			Columns: []*sql.ColumnDef{
				{Name: id("a"), Typ: typ("bigint"), Default: num("1"), NotNull: true, Props: []*sql.Property{prop("p", num("1"))}},
				{Name: id("b"), Typ: typ("varchar", numArg("10"))},
			},
			Likes: []*sql.QualifiedName{qname("u")},
			Props: []*sql.Property{prop("partitioning", &sql.Array{Elems: []sql.Expr{str("a")}})},
		}},
		{"CREATE VIEW", "CREATE OR REPLACE VIEW v COMMENT 'c' SECURITY INVOKER AS SELECT a FROM t", &sql.CreateView{Name: qname("v"), Replace: true, Query: selectA}},
		{"CREATE MATERIALIZED VIEW", "CREATE MATERIALIZED VIEW IF NOT EXISTS mv GRACE PERIOD INTERVAL '1' HOUR WHEN STALE INLINE WITH (p = 'x') AS SELECT a FROM t", &sql.CreateView{
			Name: qname("mv"), IfNotExists: true, Materialized: true,
			Grace: &sql.Literal{Kind: sql.LitInterval, Type: "HOUR", Value: "1"},
			Props: []*sql.Property{prop("p", str("x"))},
			Query: selectA,
		}},
		{"DELETE", "DELETE FROM t @ dev WHERE a = 1", &sql.Delete{Table: qname("t"), Branch: id("dev"), Where: bin("=", a, num("1"))}},
		{"DELETE everything", "DELETE FROM t", &sql.Delete{Table: qname("t")}},
		{"UPDATE", "UPDATE t SET a = 1, b = b + 1 WHERE a", &sql.Update{
			Table: qname("t"),
			Sets:  []*sql.Assignment{{Column: id("a"), Value: num("1")}, {Column: id("b"), Value: bin("+", b, num("1"))}},
			Where: a,
		}},
		{"MERGE with all three actions", "MERGE INTO t AS x USING s ON x.a = s.a WHEN MATCHED AND s.d THEN DELETE WHEN MATCHED THEN UPDATE SET b = s.b WHEN NOT MATCHED THEN INSERT (a, b) VALUES (s.a, s.b)", &sql.Merge{
			Target: qname("t"), Alias: id("x"), Source: table("s"), On: bin("=", name("x", "a"), name("s", "a")),
			Cases: []*sql.MergeCase{
				{Matched: true, Cond: name("s", "d"), Action: "DELETE"},
				{Matched: true, Action: "UPDATE", Sets: []*sql.Assignment{{Column: id("b"), Value: name("s", "b")}}},
				{Action: "INSERT", Columns: []*sql.Ident{id("a"), id("b")}, Values: []sql.Expr{name("s", "a"), name("s", "b")}},
			},
		}},
		{"MERGE from a subquery", "MERGE INTO t USING (SELECT a FROM t) s ON true WHEN NOT MATCHED THEN INSERT VALUES (1)", &sql.Merge{
			Target: qname("t"), Source: aliased(&sql.SubqueryRel{Query: selectA}, "s"), On: boolean("true"),
			Cases: []*sql.MergeCase{{Action: "INSERT", Values: []sql.Expr{num("1")}}},
		}},
		{"TRUNCATE", "TRUNCATE TABLE s.t", &sql.Truncate{Table: qname("s", "t")}},

		// SHOW and DESCRIBE.
		{"SHOW TABLES", `SHOW TABLES FROM c.s LIKE 't\_%' ESCAPE '\'`, &sql.Show{What: "TABLES", Target: qname("c", "s"), Like: str(`t\_%`), Escape: str(`\`)}},
		{"SHOW SCHEMAS", "SHOW SCHEMAS IN c", &sql.Show{What: "SCHEMAS", Target: qname("c")}},
		{"SHOW CATALOGS", "SHOW CATALOGS LIKE 'x'", &sql.Show{What: "CATALOGS", Like: str("x")}},
		{"SHOW COLUMNS", "SHOW COLUMNS FROM t", &sql.Show{What: "COLUMNS", Target: qname("t"), Table: true}},
		{"SHOW CREATE TABLE", "SHOW CREATE TABLE s.t", &sql.Show{What: "CREATE TABLE", Target: qname("s", "t"), Table: true}},
		{"SHOW CREATE MATERIALIZED VIEW", "SHOW CREATE MATERIALIZED VIEW mv", &sql.Show{What: "CREATE MATERIALIZED VIEW", Target: qname("mv"), Table: true}},
		{"SHOW CREATE SCHEMA", "SHOW CREATE SCHEMA s", &sql.Show{What: "CREATE SCHEMA", Target: qname("s")}},
		{"SHOW FUNCTIONS", "SHOW FUNCTIONS FROM c.s", &sql.Show{What: "FUNCTIONS", Target: qname("c", "s")}},
		{"SHOW SESSION", "SHOW SESSION", &sql.Show{What: "SESSION"}},
		{"SHOW GRANTS ON TABLE", "SHOW GRANTS ON TABLE t", &sql.Show{What: "GRANTS", Target: qname("t"), Table: true}},
		{"SHOW GRANTS ON SCHEMA", "SHOW GRANTS ON SCHEMA s", &sql.Show{What: "GRANTS", Target: qname("s")}},
		{"SHOW ROLES", "SHOW CURRENT ROLES FROM c", &sql.Show{What: "CURRENT ROLES", Target: qname("c")}},
		{"SHOW ROLE GRANTS", "SHOW ROLE GRANTS", &sql.Show{What: "ROLE GRANTS"}},
		{"SHOW BRANCHES", "SHOW BRANCHES FROM TABLE t", &sql.Show{What: "BRANCHES", Target: qname("t"), Table: true}},
		{"SHOW STATS of a table", "SHOW STATS FOR t", &sql.Show{What: "STATS", Target: qname("t"), Table: true}},
		{"SHOW STATS of a query", "SHOW STATS FOR (SELECT a FROM t)", &sql.Show{What: "STATS", Query: selectA}},
		{"DESCRIBE", "DESCRIBE c.s.t", &sql.Describe{Table: qname("c", "s", "t")}},
		{"DESC", "DESC t", &sql.Describe{Table: qname("t")}},
		{"DESCRIBE a table named output", "DESCRIBE output", &sql.Describe{Table: qname("output")}},
		{"DESCRIBE INPUT", "DESCRIBE INPUT p", &sql.DescribeIO{Name: id("p")}},
		{"DESCRIBE OUTPUT", "DESCRIBE OUTPUT p", &sql.DescribeIO{Output: true, Name: id("p")}},
		{"DESCRIBE OUTPUT of a query", "DESCRIBE OUTPUT (SELECT a FROM t)", &sql.DescribeIO{Output: true, Query: selectA}},

		// EXPLAIN.
		{"EXPLAIN with options", "EXPLAIN (TYPE DISTRIBUTED, FORMAT JSON) SELECT 1", &sql.Explain{Options: []string{"TYPE DISTRIBUTED", "FORMAT JSON"}, Stmt: &sql.QueryStmt{Query: query(sel("1"))}}},
		{"EXPLAIN ANALYZE VERBOSE", "EXPLAIN ANALYZE VERBOSE INSERT INTO t VALUES 1", &sql.Explain{Analyze: true, Options: []string{"VERBOSE"}, Stmt: &sql.Insert{
			Table: qname("t"), Query: query(&sql.Values{Rows: []sql.Expr{num("1")}}),
		}}},
		{"EXPLAIN of a parenthesised query", "EXPLAIN (SELECT 1)", &sql.Explain{Stmt: &sql.QueryStmt{Query: query(&sql.ParenQuery{Query: query(sel("1"))})}}},

		// Session.
		{"USE schema", "USE s", &sql.Use{Schema: id("s")}},
		{"USE catalog.schema", `USE c."S"`, &sql.Use{Catalog: id("c"), Schema: qid("S")}},
		{"SET SESSION", "SET SESSION c.p = 'x'", &sql.SetSession{Name: qname("c", "p"), Value: str("x")}},
		{"RESET SESSION", "RESET SESSION p", &sql.ResetSession{Name: qname("p")}},
		{"SET SESSION AUTHORIZATION", "SET SESSION AUTHORIZATION 'alice'", &sql.DDL{Kind: "set_session_authorization", Exprs: []sql.Expr{str("alice")}}},
		{"RESET SESSION AUTHORIZATION", "RESET SESSION AUTHORIZATION", &sql.DDL{Kind: "reset_session_authorization"}},
		{"SET ROLE", "SET ROLE ALL IN c", &sql.DDL{Kind: "set_role"}},
		{"SET PATH", "SET PATH c.s, d.t", &sql.DDL{Kind: "set_path"}},
		{"SET TIME ZONE", "SET TIME ZONE 'UTC'", &sql.DDL{Kind: "set_time_zone", Exprs: []sql.Expr{str("UTC")}}},
		{"SET TIME ZONE LOCAL", "SET TIME ZONE LOCAL", &sql.DDL{Kind: "set_time_zone"}},

		// Prepared statements.
		{"PREPARE", "PREPARE p FROM SELECT ? FROM t -- comment", &sql.Prepare{Name: id("p"), Text: "SELECT ? FROM t", Stmt: &sql.QueryStmt{
			Query: query(&sql.Select{Items: []sql.SelectItem{col(&sql.Param{Index: 1})}, From: []sql.Relation{table("t")}}),
		}}},
		{"PREPARE with a trailing semicolon", "PREPARE p FROM\n  DELETE FROM t /* all */ ;", &sql.Prepare{Name: id("p"), Text: "DELETE FROM t", Stmt: &sql.Delete{Table: qname("t")}}},
		{"EXECUTE USING", "EXECUTE p USING 1, 'a'", &sql.Execute{Name: id("p"), Using: []sql.Expr{num("1"), str("a")}}},
		{"EXECUTE IMMEDIATE", "EXECUTE IMMEDIATE 'SELECT ?' USING 1", &sql.ExecuteImmediate{SQL: str("SELECT ?"), Using: []sql.Expr{num("1")}}},
		{"DEALLOCATE PREPARE", "DEALLOCATE PREPARE p", &sql.Deallocate{Name: id("p")}},

		// Transactions and procedures.
		{"START TRANSACTION with modes", "START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY", &sql.Transaction{Verb: "START", Modes: []string{"ISOLATION LEVEL READ COMMITTED", "READ ONLY"}}},
		{"START TRANSACTION", "START TRANSACTION", &sql.Transaction{Verb: "START"}},
		{"COMMIT", "COMMIT WORK", &sql.Transaction{Verb: "COMMIT"}},
		{"ROLLBACK", "rollback", &sql.Transaction{Verb: "ROLLBACK"}},
		{"CALL with named arguments", "CALL system.sync(schema_name => 's', mode => 'FULL')", &sql.CallStmt{Name: qname("system", "sync"), Args: []sql.Expr{
			&sql.NamedArg{Name: id("schema_name"), Value: str("s")},
			&sql.NamedArg{Name: id("mode"), Value: str("FULL")},
		}}},
		{"CALL without arguments", "CALL p()", &sql.CallStmt{Name: qname("p")}},

		// Privileges.
		{"GRANT on a table", "GRANT SELECT, INSERT ON TABLE s.t TO USER alice, ROLE r WITH GRANT OPTION", &sql.Privilege{
			Verb: "GRANT", Privileges: []string{"SELECT", "INSERT", "WITH GRANT OPTION"}, On: "TABLE", Object: qname("s", "t"), Grantees: []string{"alice", "r"},
		}},
		{"GRANT on a schema", "GRANT ALL PRIVILEGES ON SCHEMA s TO Bob", &sql.Privilege{
			Verb: "GRANT", Privileges: []string{"ALL", "PRIVILEGES"}, On: "SCHEMA", Object: qname("s"), Grantees: []string{"bob"},
		}},
		{"GRANT on a branch", "GRANT UPDATE ON BRANCH dev IN TABLE t TO alice", &sql.Privilege{
			Verb: "GRANT", Privileges: []string{"UPDATE"}, On: "BRANCH", Branch: id("dev"), Object: qname("t"), Grantees: []string{"alice"},
		}},
		{"REVOKE GRANT OPTION FOR", "REVOKE GRANT OPTION FOR DELETE ON t FROM alice", &sql.Privilege{
			Verb: "REVOKE", Privileges: []string{"DELETE"}, On: "TABLE", Object: qname("t"), Grantees: []string{"alice"},
		}},
		{"DENY", "DENY UPDATE ON t TO bob", &sql.Privilege{Verb: "DENY", Privileges: []string{"UPDATE"}, On: "TABLE", Object: qname("t"), Grantees: []string{"bob"}}},
		{"GRANT roles", "GRANT r1, r2 TO USER alice WITH ADMIN OPTION GRANTED BY bob IN c", &sql.DDL{Kind: "grant_roles", Object: "role"}},
		{"REVOKE roles", "REVOKE ADMIN OPTION FOR r FROM alice", &sql.DDL{Kind: "revoke_roles", Object: "role"}},

		// Comments and statistics.
		{"COMMENT ON TABLE", "COMMENT ON TABLE t IS 'x'", &sql.Comment{On: "TABLE", Name: qname("t"), Text: str("x")}},
		{"COMMENT ON COLUMN", "COMMENT ON COLUMN s.t.c IS NULL", &sql.Comment{On: "COLUMN", Name: qname("s", "t", "c")}},
		{"ANALYZE WITH", "ANALYZE t WITH (partitions = ARRAY['1'])", &sql.Analyze{Table: qname("t"), Props: []*sql.Property{prop("partitions", &sql.Array{Elems: []sql.Expr{str("1")}})}}},
		{"REFRESH MATERIALIZED VIEW", "REFRESH MATERIALIZED VIEW s.mv", ddl("refresh_materialized_view", "materialized_view", qname("s", "mv"))},

		// ALTER.
		{"ALTER TABLE EXECUTE with WHERE", "ALTER TABLE t EXECUTE optimize(file_size_threshold => '10MB') WHERE a = 1", &sql.TableExecute{
			Table: qname("t"), Procedure: id("optimize"),
			Args:  []sql.Expr{&sql.NamedArg{Name: id("file_size_threshold"), Value: str("10MB")}},
			Where: bin("=", a, num("1")),
		}},
		{"ALTER TABLE EXECUTE without arguments", "ALTER TABLE t EXECUTE expire_snapshots", &sql.TableExecute{Table: qname("t"), Procedure: id("expire_snapshots")}},
		{"ADD COLUMN", "ALTER TABLE IF EXISTS t ADD COLUMN IF NOT EXISTS c bigint DEFAULT 0 AFTER b", &sql.DDL{
			Kind: "add_column", Object: "table", Name: qname("t"), Column: &sql.ColumnDef{Name: id("c"), Typ: typ("bigint"), Default: num("0")},
		}},
		{"DROP COLUMN", "ALTER TABLE t DROP COLUMN IF EXISTS c", ddl("drop_column", "table", qname("t"))},
		{"RENAME COLUMN", "ALTER TABLE t RENAME COLUMN a TO b", ddl("rename_column", "table", qname("t"))},
		{"ALTER COLUMN", "ALTER TABLE t ALTER COLUMN c SET DATA TYPE bigint", ddl("alter_column", "table", qname("t"))},
		{"ALTER COLUMN SET DEFAULT", "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1", &sql.DDL{Kind: "alter_column", Object: "table", Name: qname("t"), Exprs: []sql.Expr{num("1")}}},
		{"RENAME TABLE", "ALTER TABLE t RENAME TO s.u", &sql.DDL{Kind: "rename_table", Object: "table", Name: qname("t"), NewName: qname("s", "u")}},
		{"SET PROPERTIES", "ALTER TABLE t SET PROPERTIES a = 1, b = DEFAULT", &sql.DDL{Kind: "alter_table", Object: "table", Name: qname("t"), Props: []*sql.Property{prop("a", num("1")), {Name: qname("b")}}}},
		{"ALTER VIEW SET AUTHORIZATION", "ALTER VIEW v SET AUTHORIZATION ROLE r", ddl("alter_view", "view", qname("v"))},
		{"RENAME MATERIALIZED VIEW", "ALTER MATERIALIZED VIEW mv RENAME TO mv2", &sql.DDL{Kind: "rename_materialized_view", Object: "materialized_view", Name: qname("mv"), NewName: qname("mv2")}},
		{"RENAME SCHEMA", "ALTER SCHEMA s RENAME TO s2", &sql.DDL{Kind: "rename_schema", Object: "schema", Name: qname("s"), NewName: qname("s2")}},
		{"ALTER BRANCH", "ALTER BRANCH dev IN TABLE t FAST FORWARD TO main", ddl("alter_branch", "table", qname("t"))},

		// CREATE and DROP of other objects.
		{"CREATE SCHEMA", "CREATE SCHEMA IF NOT EXISTS c.s AUTHORIZATION alice WITH (location = 's3://b/')", &sql.DDL{
			Kind: "create_schema", Object: "schema", Name: qname("c", "s"), Props: []*sql.Property{prop("location", str("s3://b/"))},
		}},
		{"CREATE CATALOG", "CREATE CATALOG c USING iceberg WITH (k = 'v')", &sql.DDL{Kind: "create_catalog", Object: "catalog", Name: qname("c"), Props: []*sql.Property{prop("k", str("v"))}}},
		{"CREATE ROLE", "CREATE ROLE r WITH ADMIN USER alice", ddl("create_role", "role", qname("r"))},
		{"CREATE BRANCH", "CREATE BRANCH IF NOT EXISTS dev IN TABLE t FROM main", ddl("create_branch", "table", qname("t"))},
		{"CREATE FUNCTION with RETURN", "CREATE OR REPLACE FUNCTION s.meaning(x bigint) RETURNS bigint LANGUAGE SQL DETERMINISTIC RETURNS NULL ON NULL INPUT RETURN x + 42", &sql.DDL{
			Kind: "create_function", Object: "function", Name: qname("s", "meaning"),
			Function: &sql.Function{Name: qname("s", "meaning"), Body: []sql.Expr{bin("+", name("x"), num("42"))}},
		}},
		{"CREATE FUNCTION with a body", "CREATE FUNCTION f(x int) RETURNS int BEGIN DECLARE y int DEFAULT (SELECT a FROM t); IF x > 0 THEN RETURN y; END IF; RETURN 0; END", &sql.DDL{
			Kind: "create_function", Object: "function", Name: qname("f"),
			Function: &sql.Function{Name: qname("f"), Body: []sql.Expr{&sql.Subquery{Query: selectA}, name("y"), num("0")}},
		}},
		{"DROP TABLE", "DROP TABLE IF EXISTS s.t", ddl("drop_table", "table", qname("s", "t"))},
		{"DROP VIEW", "DROP VIEW v", ddl("drop_view", "view", qname("v"))},
		{"DROP MATERIALIZED VIEW", "DROP MATERIALIZED VIEW mv", ddl("drop_materialized_view", "materialized_view", qname("mv"))},
		{"DROP SCHEMA", "DROP SCHEMA s CASCADE", ddl("drop_schema", "schema", qname("s"))},
		{"DROP CATALOG", "DROP CATALOG c RESTRICT", ddl("drop_catalog", "catalog", qname("c"))},
		{"DROP ROLE", "DROP ROLE r IN c", ddl("drop_role", "role", qname("r"))},
		{"DROP FUNCTION", "DROP FUNCTION IF EXISTS s.f(bigint, varchar(3))", ddl("drop_function", "function", qname("s", "f"))},
		{"DROP BRANCH", "DROP BRANCH IF EXISTS dev IN TABLE t", ddl("drop_branch", "table", qname("t"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustParse(t, tc.src)
			if diff := cmp.Diff(tc.want, got, treeOpts...); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

func TestStatementErrors(t *testing.T) {
	for _, src := range []string{
		"INSERT t VALUES 1",
		"INSERT INTO t",
		"CREATE TABLE t",
		"CREATE TABLE t (a, b)",
		"CREATE TABLE t (a bigint) AS SELECT 1",
		"CREATE VIEW v",
		"CREATE THING x",
		"DELETE t",
		"UPDATE t a = 1",
		"MERGE INTO t USING s ON true",
		"MERGE INTO t USING s ON true WHEN MATCHED THEN UPSERT",
		"TRUNCATE t",
		"SHOW",
		"SHOW TABLE",
		"SHOW CREATE t",
		"EXPLAIN",
		"EXPLAIN () SELECT 1",
		"USE",
		"SET x = 1",
		"SET SESSION p",
		"RESET p",
		"PREPARE p SELECT 1",
		"PREPARE p FROM",
		"EXECUTE",
		"DEALLOCATE p",
		"START",
		"CALL p",
		"GRANT SELECT ON t",
		"GRANT SELECT ; x ON t TO u",
		"GRANT 1 ON t TO u",
		"REVOKE SELECT ON t TO alice",
		"COMMENT ON t IS 'x'",
		"COMMENT ON TABLE t IS x",
		"REFRESH VIEW v",
		"ALTER TABLE t",
		"ALTER SCHEMA s ADD COLUMN c int",
		"ALTER TABLE t ALTER COLUMN c",
		"DROP t",
		"DROP BRANCH b",
		"CREATE FUNCTION f() RETURNS int",
		"CREATE FUNCTION f() RETURNS int BEGIN RETURN 1;",
		"WITH FUNCTION f() RETURNS int RETURN 1",
	} {
		if stmt, err := sql.Parse(src); err == nil {
			t.Errorf("Parse(%q) = %#v, want a syntax error", src, stmt)
		}
	}
}
