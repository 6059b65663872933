package server_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meridian-lake/meridian/server"
)

// testHashCost keeps bcrypt fast in tests (bcrypt.MinCost).
const testHashCost = 4

// The demo users of issue 6, with their passwords.
var demoPasswords = map[string]string{
	"anna": "anna-secret", "sam": "sam-secret", "dora": "dora-secret", "ops": "ops-secret",
}

var (
	hashOnce   sync.Once
	hashByUser map[string]string
)

func demoHash(t testing.TB, user string) string {
	t.Helper()
	hashOnce.Do(func() {
		hashByUser = map[string]string{}
		for u, pw := range demoPasswords {
			h, err := server.HashPassword(pw, testHashCost)
			if err != nil {
				panic(err)
			}
			hashByUser[u] = h
		}
	})
	return hashByUser[user]
}

// demoUsersYAML is a users file with the demo users.
func demoUsersYAML(t testing.TB) string {
	return fmt.Sprintf(`# demo users
users:
  - name: anna
    password_hash: %q
    region: eu
    groups: [analysts]
    purposes: [analytics, support]
  - name: sam
    password_hash: %q
    region: us
    purposes: [analytics]
    roles: [analyst]
  - name: dora
    password_hash: %q
    region: eu
    roles: [compliance]
  - name: ops
    password_hash: %q
    roles: [admin]
`, demoHash(t, "anna"), demoHash(t, "sam"), demoHash(t, "dora"), demoHash(t, "ops"))
}

func demoUsers(t testing.TB) *server.Users {
	t.Helper()
	us, err := server.ParseUsers([]byte(demoUsersYAML(t)))
	if err != nil {
		t.Fatal(err)
	}
	return us
}

func TestParseUsers(t *testing.T) {
	us := demoUsers(t)
	if us.Len() != 4 {
		t.Errorf("Len = %d, want 4", us.Len())
	}
	anna, ok := us.Lookup("anna")
	if !ok {
		t.Fatal("anna not found")
	}
	got := anna.Identity(server.MethodPassword)
	want := server.Identity{User: "anna", Groups: []string{"analysts"}, Region: "eu",
		Purposes: []string{"analytics", "support"}, Roles: []string{"analyst"}, Authenticated: true, Method: "password"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("anna's identity (-got +want):\n%s", diff)
	}
	ops, _ := us.Lookup("ops")
	if diff := cmp.Diff(ops.Roles, []string{"admin"}); diff != "" {
		t.Errorf("ops roles (-got +want):\n%s", diff)
	}
	if _, ok := us.Lookup("Anna"); ok {
		t.Error("Lookup is case-insensitive; user names are exact")
	}
	if _, ok := us.Lookup("nobody"); ok {
		t.Error("Lookup(nobody) found someone")
	}
}

func TestParseUsersErrors(t *testing.T) {
	h := demoHash(t, "anna")
	for _, tc := range []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"unknown field", "users:\n  - name: a\n    password_hash: " + h + "\n    regoin: eu\n", 4, `unknown field "regoin"`},
		{"unknown top field", "users: []\nadmins: [x]\n", 2, `unknown field "admins"`},
		{"duplicate user", "users:\n  - name: a\n    password_hash: " + h + "\n  - name: a\n    password_hash: " + h + "\n", 4, `"a" is listed twice (first at line 2)`},
		{"unknown role", "users:\n  - name: a\n    password_hash: " + h + "\n    roles: [superuser]\n", 2, `unknown role "superuser"`},
		{"missing hash", "users:\n  - name: a\n", 2, "password_hash is missing"},
		{"plain password", "users:\n  - name: a\n    password_hash: hunter2\n", 2, "not a bcrypt hash"},
		{"cost too high", "users:\n  - name: a\n    password_hash: " + strings.Replace(h, "$04$", "$31$", 1) + "\n", 2, "cost 31; at most 15"},
		{"truncated hash", "users:\n  - name: a\n    password_hash: " + h[:20] + "\n", 2, "malformed"},
		{"bad name", "users:\n  - name: 'a b'\n    password_hash: " + h + "\n", 2, `"a b" has ' '`},
		{"name starts with dot", "users:\n  - name: .a\n    password_hash: " + h + "\n", 2, "must start with a letter or digit"},
		{"long name", "users:\n  - name: " + strings.Repeat("a", 129) + "\n    password_hash: " + h + "\n", 2, "over 128 bytes"},
		{"bad region", "users:\n  - name: a\n    password_hash: " + h + "\n    region: 'eu west'\n", 2, "region"},
		{"repeated purpose", "users:\n  - name: a\n    password_hash: " + h + "\n    purposes: [x, x]\n", 2, `"x" is listed twice`},
		{"too many groups", "users:\n  - name: a\n    password_hash: " + h + "\n    groups: [" + strings.TrimSuffix(strings.Repeat("g,", 65), ",") + "]\n", 2, "over the limit of 64"},
		{"wrong type", "users:\n  - name: a\n    groups: analysts\n", 3, "cannot unmarshal"},
		{"duplicate key", "users:\n  - name: a\n    name: b\n", 3, "already defined"},
		{"two documents", "users: []\n---\nusers: []\n", 2, "more than one YAML document"},
		{"empty", "", 0, "no users"},
		{"no users", "users: []\n", 0, "no users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.ParseUsers([]byte(tc.yaml))
			var ue *server.UsersError
			if !errors.As(err, &ue) {
				t.Fatalf("ParseUsers = %v, want a *UsersError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseUsers = %q, want it to contain %q", err, tc.want)
			}
			if tc.line != 0 && !strings.Contains(err.Error(), fmt.Sprintf("line %d", tc.line)) {
				t.Errorf("ParseUsers = %q, want it to name line %d", err, tc.line)
			}
		})
	}
}

func TestParseUsersLimits(t *testing.T) {
	big := "users:\n" + strings.Repeat("  - name: a\n", server.MaxUsersFileBytes/12+1)
	if _, err := server.ParseUsers([]byte(big)); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("ParseUsers(%d bytes) = %v, want over the limit", len(big), err)
	}
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range server.MaxUsers + 1 {
		fmt.Fprintf(&b, "- {name: u%d, password_hash: \"%s\"}\n", i, demoHash(t, "anna"))
	}
	if _, err := server.ParseUsers([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "10001 users, over the limit of 10000") {
		t.Errorf("ParseUsers(10001 users) = %v", err)
	}
}

func TestReadUsersFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(path, []byte(demoUsersYAML(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	us, err := server.ReadUsersFile(path)
	if err != nil || us.Len() != 4 {
		t.Fatalf("ReadUsersFile = %v, %v", us, err)
	}
	if _, err := server.ReadUsersFile(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadUsersFile(missing) = %v, want ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("users:\n  - nmae: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := server.ReadUsersFile(bad); err == nil || !strings.Contains(err.Error(), bad+": users file: line 2") {
		t.Errorf("ReadUsersFile(bad) = %v, want the path and line", err)
	}
}

func TestHashPassword(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		cost int
		want string
	}{
		{"", testHashCost, "empty"},
		{strings.Repeat("x", 73), testHashCost, "over 72 bytes"},
		{"ok", 3, "outside"},
		{"ok", 16, "outside 4..15"},
	} {
		if _, err := server.HashPassword(tc.pw, tc.cost); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("HashPassword(%d bytes, cost %d) = %v, want %q", len(tc.pw), tc.cost, err, tc.want)
		}
	}
	h, err := server.HashPassword(strings.Repeat("x", 72), testHashCost)
	if err != nil || !strings.HasPrefix(h, "$2a$04$") {
		t.Errorf("HashPassword(72 bytes) = %q, %v", h, err)
	}
}

// FuzzParseUsers: whatever the file, ParseUsers returns users or a
// *UsersError, never panics.
func FuzzParseUsers(f *testing.F) {
	h := demoHash(f, "anna")
	f.Add(demoUsersYAML(f))
	f.Add("users:\n  - name: a\n    password_hash: " + h + "\n    regoin: eu\n")
	f.Add("users: []\n---\nusers: []\n")
	f.Add("users:\n  - &a {name: a}\n  - *a\n")
	f.Fuzz(func(t *testing.T, doc string) {
		us, err := server.ParseUsers([]byte(doc))
		var ue *server.UsersError
		if err != nil && !errors.As(err, &ue) && !strings.Contains(err.Error(), "dummy hash") {
			t.Fatalf("ParseUsers = untyped error %v", err)
		}
		if err == nil && us.Len() == 0 {
			t.Fatal("ParseUsers accepted a file without users")
		}
	})
}
