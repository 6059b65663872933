package server

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// The users file is the default identity source: YAML, strictly decoded,
// one entry per user with a bcrypt password hash and the attributes the
// policy reads.
//
//	users:
//	  - name: anna                 # [A-Za-z0-9._@+-], at most 128 bytes
//	    password_hash: $2a$10$…    # bcrypt; `meridian users add` writes it (HashPassword)
//	    region: eu                 # home region
//	    groups: [analysts]
//	    purposes: [analytics, support]
//	    roles: [analyst]           # analyst, compliance, admin; default analyst
//
// Unknown fields, duplicate users, unknown roles and malformed hashes are
// errors naming the line: a typo must not silently drop an attribute.

// Limits on the users file.
const (
	// MaxUsersFileBytes bounds the users file.
	MaxUsersFileBytes = 4 << 20
	// MaxUsers bounds the number of users in it.
	MaxUsers = 10_000
	// MaxUserNameBytes bounds a user name, in the file and in X-Trino-User.
	MaxUserNameBytes = 128
	// maxAttrBytes bounds a region, group, purpose or role.
	maxAttrBytes = 128
	// maxAttrValues bounds the groups, purposes or roles of one user.
	maxAttrValues = 64
	// maxPasswordBytes is bcrypt's limit: it ignores what follows.
	maxPasswordBytes = 72
)

// DefaultHashCost is the bcrypt cost HashPassword uses when given 0:
// about 50–100 ms per check on a current core. Successful checks are
// cached (BasicAuth), so the cost is paid once per user and TTL.
const DefaultHashCost = bcrypt.DefaultCost

// maxHashCost bounds the cost of a hash: each step doubles the time of a
// check, and cost 15 is already seconds.
const maxHashCost = 15

// User is one entry of the users file.
type User struct {
	// Name is the user name a client logs in with.
	Name string `yaml:"name"`
	// PasswordHash is the bcrypt hash of the user's password.
	PasswordHash string `yaml:"password_hash"`
	// Region is the user's home region.
	Region string `yaml:"region"`
	// Groups the user belongs to.
	Groups []string `yaml:"groups"`
	// Purposes the user may declare.
	Purposes []string `yaml:"purposes"`
	// Roles are Meridian's roles (analyst, compliance, admin); none means
	// analyst.
	Roles []string `yaml:"roles"`
}

// Identity is the user's identity, established by method.
func (u *User) Identity(method string) Identity {
	return Identity{
		User:          u.Name,
		Groups:        slices.Clone(u.Groups),
		Region:        u.Region,
		Purposes:      slices.Clone(u.Purposes),
		Roles:         slices.Clone(u.Roles),
		Authenticated: method != MethodTrustedHeader,
		Method:        method,
	}
}

// Users is a parsed users file. It is immutable and safe for concurrent
// use; a changed file is parsed into a new Users.
type Users struct {
	byName map[string]*User
	// dummy is a hash at the file's highest cost, compared against when
	// the user is unknown, so that an unknown user takes as long as a
	// wrong password.
	dummy []byte
}

// UsersError is a mistake in the users file, at Line (0 when the file as
// a whole is at fault).
type UsersError struct {
	Line int
	Msg  string
}

func (e *UsersError) Error() string {
	if e.Line == 0 {
		return "users file: " + e.Msg
	}
	return fmt.Sprintf("users file: line %d: %s", e.Line, e.Msg)
}

// ReadUsersFile reads and parses the users file at path.
func ReadUsersFile(path string) (*Users, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxUsersFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	u, err := ParseUsers(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return u, nil
}

// ParseUsers parses a users file.
func ParseUsers(data []byte) (*Users, error) {
	if len(data) > MaxUsersFileBytes {
		return nil, &UsersError{Msg: fmt.Sprintf("over the limit of %d bytes", MaxUsersFileBytes)}
	}
	// Strictly first: unknown fields and wrong types, with their lines.
	var doc struct {
		Users []User `yaml:"users"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlUsersError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &UsersError{Line: extra.Line, Msg: "more than one YAML document; put every user under one users: list"}
	}
	// Then again as nodes, only for the line of each entry.
	var lines struct {
		Users []yaml.Node `yaml:"users"`
	}
	if err := yaml.Unmarshal(data, &lines); err != nil || len(lines.Users) != len(doc.Users) {
		return nil, &UsersError{Msg: "cannot locate the entries of the users list"}
	}
	if len(doc.Users) == 0 {
		return nil, &UsersError{Msg: "no users; add one with `meridian users add`"}
	}
	if len(doc.Users) > MaxUsers {
		return nil, &UsersError{Msg: fmt.Sprintf("%d users, over the limit of %d", len(doc.Users), MaxUsers)}
	}
	us := &Users{byName: make(map[string]*User, len(doc.Users))}
	firstLine := make(map[string]int, len(doc.Users))
	maxCost := 0
	for i := range doc.Users {
		u, line := &doc.Users[i], lines.Users[i].Line
		cost, err := checkUser(u)
		if err != nil {
			return nil, &UsersError{Line: line, Msg: err.Error()}
		}
		if prev, dup := firstLine[u.Name]; dup {
			return nil, &UsersError{Line: line, Msg: fmt.Sprintf("user %q is listed twice (first at line %d)", u.Name, prev)}
		}
		firstLine[u.Name] = line
		us.byName[u.Name] = u
		maxCost = max(maxCost, cost)
	}
	if maxCost == 0 {
		maxCost = DefaultHashCost
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), maxCost)
	if err != nil {
		return nil, fmt.Errorf("users file: dummy hash: %w", err)
	}
	us.dummy = dummy
	return us, nil
}

// yamlUsersError turns a YAML error into a UsersError at its line: the
// first of a decoding's errors, or the syntax error.
func yamlUsersError(err error) *UsersError {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
		if n := len(te.Errors) - 1; n > 0 {
			msg += fmt.Sprintf(" (and %d more)", n)
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	// "field x not found in type server.User" names Go types, not ours.
	if i := strings.Index(msg, " not found in type "); i > 0 {
		if j := strings.LastIndex(msg[:i], "field "); j >= 0 {
			msg = msg[:j] + "unknown field " + strconv.Quote(msg[j+len("field "):i])
		}
	}
	ue := &UsersError{Msg: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, text, found := strings.Cut(rest, ": ")
		if n, err := strconv.Atoi(num); found && err == nil {
			ue.Line, ue.Msg = n, text
		}
	}
	return ue
}

// checkUser validates one entry, fills in the default role, and returns
// the cost of its hash.
func checkUser(u *User) (int, error) {
	if err := checkUserName(u.Name); err != nil {
		return 0, err
	}
	cost, err := checkHash(u.PasswordHash)
	if err != nil {
		return 0, fmt.Errorf("user %q: %w", u.Name, err)
	}
	if u.Region != "" {
		if err := checkAttr("region", u.Region); err != nil {
			return 0, fmt.Errorf("user %q: %w", u.Name, err)
		}
	}
	for _, list := range []struct {
		field  string
		values []string
	}{{"groups", u.Groups}, {"purposes", u.Purposes}, {"roles", u.Roles}} {
		if err := checkAttrs(list.field, list.values); err != nil {
			return 0, fmt.Errorf("user %q: %w", u.Name, err)
		}
	}
	for _, r := range u.Roles {
		if !slices.Contains(knownRoles, r) {
			return 0, fmt.Errorf("user %q: unknown role %q; the roles are %s", u.Name, r, strings.Join(knownRoles, ", "))
		}
	}
	if len(u.Roles) == 0 {
		u.Roles = []string{RoleAnalyst}
	}
	return cost, nil
}

func checkHash(h string) (int, error) {
	if h == "" {
		return 0, errors.New("password_hash is missing; generate one with `meridian users add`")
	}
	if !strings.HasPrefix(h, "$2a$") && !strings.HasPrefix(h, "$2b$") && !strings.HasPrefix(h, "$2y$") {
		return 0, errors.New("password_hash is not a bcrypt hash ($2a$, $2b$ or $2y$); generate one with `meridian users add`")
	}
	cost, err := bcrypt.Cost([]byte(h))
	if err != nil {
		return 0, fmt.Errorf("password_hash is malformed: %w", err)
	}
	if cost > maxHashCost {
		return 0, fmt.Errorf("password_hash has cost %d; at most %d, or every login takes seconds", cost, maxHashCost)
	}
	return cost, nil
}

// checkUserName accepts a user name from the users file, a JWT claim or
// X-Trino-User: it is passed on to clusters and written to the decision
// log, so it is kept to a plain character set.
func checkUserName(name string) error {
	if name == "" {
		return errors.New("user name is empty")
	}
	if len(name) > MaxUserNameBytes {
		return fmt.Errorf("user name is over %d bytes", MaxUserNameBytes)
	}
	if !isAlnum(name[0]) {
		return fmt.Errorf("user name %q must start with a letter or digit", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && !strings.ContainsRune("._@+-", rune(c)) {
			return fmt.Errorf("user name %q has %q; allowed are letters, digits and . _ @ + -", name, c)
		}
	}
	return nil
}

func checkAttrs(field string, values []string) error {
	if len(values) > maxAttrValues {
		return fmt.Errorf("%s: %d values, over the limit of %d", field, len(values), maxAttrValues)
	}
	for i, v := range values {
		if err := checkAttr(field, v); err != nil {
			return err
		}
		if slices.Contains(values[:i], v) {
			return fmt.Errorf("%s: %q is listed twice", field, v)
		}
	}
	return nil
}

func checkAttr(field, v string) error {
	if v == "" || len(v) > maxAttrBytes {
		return fmt.Errorf("%s: values must be 1 to %d bytes", field, maxAttrBytes)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isAlnum(c) && !strings.ContainsRune("._:@+/-", rune(c)) {
			return fmt.Errorf("%s: %q has %q; allowed are letters, digits and . _ : @ + / -", field, v, c)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Lookup returns the user called name.
func (us *Users) Lookup(name string) (*User, bool) {
	if us == nil {
		return nil, false
	}
	u, ok := us.byName[name]
	return u, ok
}

// Len is the number of users.
func (us *Users) Len() int { return len(us.byName) }

// verify reports whether password is name's. It takes the time of one
// bcrypt comparison whether or not the user exists.
func (us *Users) verify(name, password string) (*User, bool) {
	u, ok := us.byName[name]
	hash := us.dummy
	if ok {
		hash = []byte(u.PasswordHash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	return u, ok && match
}

// HashPassword returns the bcrypt hash of password for the users file, at
// cost (0 means DefaultHashCost; tests use bcrypt.MinCost).
func HashPassword(password string, cost int) (string, error) {
	if cost == 0 {
		cost = DefaultHashCost
	}
	if cost < bcrypt.MinCost || cost > maxHashCost {
		return "", fmt.Errorf("hash password: cost %d is outside %d..%d", cost, bcrypt.MinCost, maxHashCost)
	}
	switch {
	case password == "":
		return "", errors.New("hash password: the password is empty")
	case len(password) > maxPasswordBytes:
		return "", fmt.Errorf("hash password: the password is over %d bytes, which bcrypt cannot use", maxPasswordBytes)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}
