package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/meridian-lake/meridian/internal/cfgfile"
	"github.com/meridian-lake/meridian/server"
)

const usersDescription = `Users manages the users file Meridian authenticates passwords against
(serve.users_file; default DIR/users.yaml): bcrypt password hashes and each
user's home region, groups, permitted purposes and roles.

  add NAME    add a user, or replace one, reading the password from the first
              line of standard input (e.g. printf '%s' "$PW" | meridian users
              add anna --region eu --purposes analytics)
  list        list the users and their attributes (never the hashes)
  hash        print the bcrypt hash of the password on standard input

The file is checked as Meridian reads it before it is replaced, atomically.
A running Meridian reads it at start.

Exit status: 0 on success, 1 when the file could not be read or written, 2
for a usage error.`

func runUsers(ctx context.Context, st streams, args []string) int {
	fs := newFlagSet(st, "users", "add NAME | list | hash [flags]", usersDescription)
	configPath := fs.String("config", os.Getenv("MERIDIAN_CONFIG"), "configuration `file`")
	file := fs.String("file", "", "the users `file` (default serve.users_file, else DIR/users.yaml)")
	region := fs.String("region", "", "the user's home `region`")
	groups := fs.String("groups", "", "comma-separated `groups`")
	purposes := fs.String("purposes", "", "comma-separated permitted `purposes`")
	roles := fs.String("roles", "analyst", "comma-separated `roles`: analyst, compliance, admin")
	cost := fs.Int("cost", 0, "bcrypt `cost` (default 10)")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return usageError(st, "users", "want a subcommand: add, list or hash")
	}
	readPassword := func() (string, error) {
		line, err := bufio.NewReader(st.in).ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if err != nil {
				return "", errors.New("no password on standard input")
			}
			return "", errors.New("the password on standard input is empty")
		}
		return line, nil
	}
	switch pos[0] {
	case "hash":
		pw, err := readPassword()
		if err != nil {
			return usageError(st, "users", "%v", err)
		}
		h, err := server.HashPassword(pw, *cost)
		if err != nil {
			return usageError(st, "users", "%v", err)
		}
		fmt.Fprintln(st.out, h)
		return exitOK
	case "list", "add":
	default:
		return usageError(st, "users", "unknown subcommand %q: want add, list or hash", pos[0])
	}
	path := *file
	if path == "" {
		cfg, err := loadConfig(*configPath)
		if err != nil {
			fmt.Fprintf(st.err, "meridian users: %v\n", err)
			return exitUsage
		}
		path = cfg.Serve.UsersFile
		if path == "" {
			path = filepath.Join(cfg.Dir, "users.yaml")
		}
	}
	doc, err := readUsersDoc(path)
	if err != nil {
		fmt.Fprintf(st.err, "meridian users: %v\n", err)
		return exitFailed
	}
	if pos[0] == "list" {
		for _, u := range doc.Users {
			fmt.Fprintf(st.out, "%-16s region %-6s groups %-20s purposes %-24s roles %s\n", u.Name, u.Region,
				strings.Join(u.Groups, ","), strings.Join(u.Purposes, ","), strings.Join(u.Roles, ","))
		}
		return exitOK
	}
	if len(pos) != 2 {
		return usageError(st, "users", "add takes one user name")
	}
	pw, err := readPassword()
	if err != nil {
		return usageError(st, "users", "%v", err)
	}
	h, err := server.HashPassword(pw, *cost)
	if err != nil {
		return usageError(st, "users", "%v", err)
	}
	entry := server.User{Name: pos[1], PasswordHash: h, Region: *region, Groups: splitList(*groups),
		Purposes: splitList(*purposes), Roles: splitList(*roles)}
	replaced := false
	for i := range doc.Users {
		if doc.Users[i].Name == entry.Name {
			doc.Users[i], replaced = entry, true
		}
	}
	if !replaced {
		doc.Users = append(doc.Users, entry)
	}
	if err := writeUsersDoc(path, doc); err != nil {
		fmt.Fprintf(st.err, "meridian users: %v\n", err)
		return exitFailed
	}
	verb := "added"
	if replaced {
		verb = "replaced"
	}
	fmt.Fprintf(st.out, "%s %s in %s\n", verb, entry.Name, path)
	return exitOK
}

// usersDoc is the users file as server.ParseUsers reads it.
type usersDoc struct {
	Users []server.User `yaml:"users"`
}

// readUsersDoc reads the file as Meridian does (a missing file is empty).
func readUsersDoc(path string) (usersDoc, error) {
	var doc usersDoc
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return doc, nil
	}
	if err != nil {
		return doc, err
	}
	if _, err := server.ParseUsers(b); err != nil {
		return doc, fmt.Errorf("%s: %w", path, err)
	}
	return doc, yaml.Unmarshal(b, &doc)
}

// writeUsersDoc replaces the file atomically, after checking the new
// content parses as Meridian will read it.
func writeUsersDoc(path string, doc usersDoc) error {
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	if _, err := server.ParseUsers(b); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return cfgfile.WriteAtomic(path, b, 0o600)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
