package pgtest_test

import (
	"database/sql"
	"errors"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/meridian-lake/meridian/internal/pgtest"
)

type guest struct {
	ID      int
	Country string
}

func createGuests(t *testing.T, db *sql.DB, rows []guest) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE guests (id int PRIMARY KEY, country text NOT NULL)`); err != nil {
		t.Fatalf("CREATE TABLE: %v", err)
	}
	for _, g := range rows {
		if _, err := db.ExecContext(t.Context(), `INSERT INTO guests VALUES ($1, $2)`, g.ID, g.Country); err != nil {
			t.Fatalf("INSERT %v: %v", g, err)
		}
	}
}

func readGuests(t *testing.T, db *sql.DB) []guest {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT id, country FROM guests ORDER BY id`)
	if err != nil {
		t.Fatalf("SELECT: %v", err)
	}
	defer rows.Close()
	var out []guest
	for rows.Next() {
		var g guest
		if err := rows.Scan(&g.ID, &g.Country); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pgCode is the SQLSTATE of err, or "" if it has none.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestStartAnswersQueries(t *testing.T) {
	srv := pgtest.Start(t)
	db := srv.Open(t)

	var one int
	if err := db.QueryRowContext(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v; want 1", one, err)
	}
	var database, listen, fsync string
	if err := db.QueryRowContext(t.Context(),
		"SELECT current_database(), current_setting('listen_addresses'), current_setting('fsync')").Scan(&database, &listen, &fsync); err != nil {
		t.Fatal(err)
	}
	if database != pgtest.Database || listen != "127.0.0.1" || fsync != "off" {
		t.Errorf("database %q, listen_addresses %q, fsync %q; want %q, 127.0.0.1, off", database, listen, fsync, pgtest.Database)
	}

	want := []guest{{1, "FR"}, {2, "DE"}, {3, "JP"}}
	createGuests(t, db, want)
	if diff := cmp.Diff(want, readGuests(t, db)); diff != "" {
		t.Errorf("rows read back (-want +got):\n%s", diff)
	}
}

func TestWrongPasswordIsRefused(t *testing.T) {
	srv := pgtest.Start(t)
	u, err := url.Parse(srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(pgtest.Superuser, "not-the-password")
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.PingContext(t.Context())
	if code := pgCode(err); code != "28P01" { // invalid_password
		t.Errorf("Ping with a wrong password = %v (SQLSTATE %q), want 28P01 invalid_password", err, code)
	}
}

func TestTwoServersAreIndependent(t *testing.T) {
	a, b := pgtest.Start(t), pgtest.Start(t)
	if a.Addr == b.Addr {
		t.Fatalf("both servers listen on %s", a.Addr)
	}
	dbA, dbB := a.Open(t), b.Open(t)
	createGuests(t, dbA, []guest{{1, "FR"}})

	_, err := dbB.ExecContext(t.Context(), `SELECT * FROM guests`)
	if code := pgCode(err); code != "42P01" { // undefined_table
		t.Fatalf("server b sees server a's table: %v (SQLSTATE %q), want 42P01 undefined_table", err, code)
	}
	createGuests(t, dbB, []guest{{7, "BR"}, {8, "IN"}})
	if diff := cmp.Diff([]guest{{1, "FR"}}, readGuests(t, dbA)); diff != "" {
		t.Errorf("server a rows (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]guest{{7, "BR"}, {8, "IN"}}, readGuests(t, dbB)); diff != "" {
		t.Errorf("server b rows (-want +got):\n%s", diff)
	}
}

func TestCleanupStopsServer(t *testing.T) {
	var addr string
	t.Run("server", func(t *testing.T) {
		srv := pgtest.Start(t)
		addr = srv.Addr
		var one int
		if err := srv.Open(t).QueryRowContext(t.Context(), "SELECT 1").Scan(&one); err != nil {
			t.Fatal(err)
		}
	})
	if addr == "" {
		t.Fatal("the subtest did not start a server")
	}
	// The subtest's cleanups have run: the postmaster must be gone.
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after the test ended", addr)
	}
}
