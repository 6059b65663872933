package regoplan_test

import (
	"testing"
)

// Differentials of the language: rules, partial rules and packages,
// comprehensions and iteration, patterns and base documents.

func TestRules(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "complete rule",
			modules: mod(`package t
r := input.a + 1 if input.a > 0`),
			inputs: []string{`{"a": 2}`, `{"a": -2}`, `{"a": "2"}`},
			want:   map[string]string{`{"a": 2}`: `3`, `{"a": -2}`: `undefined`, `{}`: `undefined`},
		},
		{
			name: "default rule",
			modules: mod(`package t
default r := "none"
r := input.a if input.a != "none"`),
			inputs: []string{`{"a": "x"}`, `{"a": "none"}`, `{"a": 0}`},
			want:   map[string]string{`{"a": "x"}`: `"x"`, `{}`: `"none"`},
		},
		{
			name: "else chain",
			modules: mod(`package t
r := "big" if {
	input.a > 100
} else := "medium" if {
	input.a > 10
} else := "small" if {
	input.a > 0
} else := "non-positive" if {
	is_number(input.a)
} else := input.b`),
			inputs: []string{`{"a": 1000}`, `{"a": 50}`, `{"a": 5}`, `{"a": -5}`, `{"a": null, "b": "fallback"}`, `{"a": "s", "b": "fallback"}`, `{"a": 0}`},
			want: map[string]string{`{"a": 1000}`: `"big"`, `{"a": 50}`: `"medium"`, `{"a": 5}`: `"small"`,
				`{"a": -5}`: `"non-positive"`, `{"a": null, "b": "fallback"}`: `"fallback"`,
				`{"a": "s", "b": "fallback"}`: `"big"`, `{}`: `undefined`}, // strings sort after numbers
		},
		{
			name: "else chain with default",
			modules: mod(`package t
default r := "default"
r := 1 if {
	input.a == 1
} else := 2 if {
	input.b == 2
}`),
			inputs: []string{`{"a": 1, "b": 2}`, `{"a": 0, "b": 2}`, `{"a": 0, "b": 0}`},
			want:   map[string]string{`{"a": 1, "b": 2}`: `1`, `{"a": 0, "b": 2}`: `2`, `{"a": 0, "b": 0}`: `"default"`},
		},
		{
			name: "several bodies with the same value",
			modules: mod(`package t
r := true if input.a == 1
r := true if input.b == 1
r := true if count(input.c) > 0`),
			inputs: []string{`{"a": 1, "b": 1}`, `{"a": 1}`, `{"c": [1]}`, `{"a": 2, "b": 2, "c": []}`},
			want:   map[string]string{`{"a": 1, "b": 1}`: `true`, `{"a": 2, "b": 2, "c": []}`: `undefined`},
		},
		{
			name: "conflicting complete rule bodies",
			modules: mod(`package t
r := "a" if input.a
r := "b" if input.b`),
			inputs: []string{`{"a": true, "b": true}`, `{"a": true}`, `{"b": true}`},
			want:   map[string]string{`{"a": true, "b": true}`: `error`, `{"a": true}`: `"a"`},
		},
		{
			name: "conflict inside one body's iteration",
			modules: mod(`package t
r := x if some x in input.xs`),
			inputs: []string{`{"xs": [1, 1]}`, `{"xs": [1, 2]}`, `{"xs": [3]}`},
			want:   map[string]string{`{"xs": [1, 1]}`: `1`, `{"xs": [1, 2]}`: `error`},
		},
		{
			name: "functions with several definitions",
			modules: mod(`package t
f(x) := "neg" if x < 0
f(x) := "zero" if x == 0
f(x) := "pos" if x > 0
f(x) := "str" if is_string(x)
r := [f(x) | some x in input.xs]`),
			inputs: []string{`{"xs": [-1, 0, 1, null, 2.5]}`, `{"xs": ["s"]}`, `{"xs": []}`},
			// "s" > 0 holds too (strings sort after numbers): a conflict.
			want: map[string]string{`{"xs": [-1, 0, 1, null, 2.5]}`: `["neg","zero","pos","neg","pos"]`, `{"xs": ["s"]}`: `error`},
		},
		{
			name: "function with else",
			modules: mod(`package t
grade(n) := "A" if {
	n >= 90
} else := "B" if {
	n >= 80
} else := "F"
r := {k: grade(v) | some k, v in input.b}`),
			inputs: []string{`{"b": {"x": 95, "y": 85, "z": 10, "w": "q"}}`},
			want:   map[string]string{`{"b": {"x": 95, "y": 85, "z": 10, "w": "q"}}`: `{"w":"A","x":"A","y":"B","z":"F"}`},
		},
		{
			name: "function conflict",
			modules: mod(`package t
f(x) := 1 if x > 0
f(x) := 2 if x > 10
r := f(input.a)`),
			inputs: []string{`{"a": 5}`, `{"a": 50}`, `{"a": -1}`},
			want:   map[string]string{`{"a": 5}`: `1`, `{"a": 50}`: `error`, `{"a": -1}`: `undefined`},
		},
		{
			name: "function of several arguments and recursion free chain",
			modules: mod(`package t
add(a, b) := a + b
twice(x) := add(x, x)
pick(o, k) := o[k]
pick(o, k) := null if not o[k]
r := {"twice": twice(input.a), "pick": pick(input.b, "k")}`),
			inputs: []string{`{"a": 3, "b": {"k": 1}}`, `{"a": 3, "b": {"k": false}}`, `{"a": 3, "b": {}}`},
		},
		{
			name: "boolean rule shorthand and negation of rules",
			modules: mod(`package t
allow if input.a == "admin"
allow if "admin" in input.xs
deny if not allow
r := {"allow": allow, "deny": deny}`),
			inputs: []string{`{"a": "admin"}`, `{"xs": ["u", "admin"]}`, `{"xs": {"admin": 1}}`},
		},
		{
			name: "rule used many times is memoised consistently",
			modules: mod(`package t
s := sum([x | some x in input.xs])
r := [s, s * 2, s == count(input.xs)]`),
			inputs: []string{`{"xs": [1, 1]}`, `{"xs": [1, 2, 3]}`},
		},
	})
}

func TestPartialRulesAndPackages(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "partial set rule",
			modules: mod(`package t
r contains x if {
	some x in input.xs
	x > 1
}
r contains "many" if count(input.xs) > 2
r contains y if {
	some y in input.a
	is_string(y)
}`),
			inputs: []string{`{"xs": [1, 2, 3, 2]}`, `{"xs": [], "a": ["p", 1]}`, `{"xs": {"k": 5}}`},
			want:   map[string]string{`{"xs": [1, 2, 3, 2]}`: `[2,3,"many"]`, `{}`: `[]`},
		},
		{
			name: "partial object rule",
			modules: mod(`package t
r[k] := v if {
	some k, v in input.b
	is_number(v)
}
r["size"] := count(input.xs)`),
			inputs: []string{`{"b": {"x": 1, "y": "s"}, "xs": [1]}`, `{"b": {"size": 1}, "xs": [1]}`, `{"b": {"size": 2}, "xs": [1]}`},
			want: map[string]string{`{"b": {"x": 1, "y": "s"}, "xs": [1]}`: `{"size":1,"x":1}`,
				`{"b": {"size": 1}, "xs": [1]}`: `{"size":1}`, `{"b": {"size": 2}, "xs": [1]}`: `error`},
		},
		{
			name: "partial object rule with conflicting keys from one body",
			modules: mod(`package t
r[x.k] := x.v if some x in input.xs`),
			inputs: []string{`{"xs": [{"k": "a", "v": 1}, {"k": "a", "v": 1}]}`, `{"xs": [{"k": "a", "v": 1}, {"k": "a", "v": 2}]}`, `{"xs": [{"k": 1, "v": 1}, {"k": 1.0, "v": 2}]}`},
			want:   map[string]string{`{"xs": [{"k": "a", "v": 1}, {"k": "a", "v": 1}]}`: `{"a":1}`, `{"xs": [{"k": "a", "v": 1}, {"k": "a", "v": 2}]}`: `error`},
		},
		{
			name: "multi-value rule over an object with references in its key",
			modules: mod(`package t
r[x] contains y if {
	some x, ys in input.b
	some y in ys
}`),
			inputs: []string{`{"b": {"p": [1, 2], "q": []}}`, `{"b": {"p": "s"}}`},
		},
		{
			name: "one package in two files",
			modules: map[string]string{
				"t1.rego": `package t
r contains "one" if input.a
base := 10`,
				"t2.rego": `package t
r contains "two" if input.b
r contains base + 1 if input.c`,
			},
			inputs: []string{`{"a": true, "b": true, "c": true}`, `{"a": true}`},
			want:   map[string]string{`{"a": true, "b": true, "c": true}`: `[11,"one","two"]`},
		},
		{
			name: "rules in several packages",
			modules: map[string]string{
				"lib.rego": `package lib.util
double(x) := 2 * x
names contains n if {
	some u in input.users
	n := u.name
}`,
				"roles.rego": `package roles
admin if "admin" in input.roles`,
				"t.rego": `package t
import data.lib.util
r := {"names": util.names, "d": util.double(count(util.names)), "admin": data.roles.admin}
r := {"denied": true} if {
	not data.roles.admin
	count(util.names) == 0
}`,
			},
			inputs: []string{`{"users": [{"name": "x"}, {"name": "y"}], "roles": ["admin"]}`, `{"users": [], "roles": []}`, `{"users": [{"nm": 1}]}`},
		},
	})
}

func TestComprehensionsAndIteration(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "set array object comprehensions",
			modules: mod(`package t
r := {
	"set": {x | some x in input.xs},
	"arr": [(x * 2) | some x in input.xs; is_number(x)],
	"obj": {k: count(v) | some k, v in input.b},
}`),
			inputs: []string{`{"xs": [3, 1, 3, "a"], "b": {"p": [1], "q": "abc", "r": {}}}`, `{"xs": [], "b": {}}`, `{"xs": [1], "b": {"p": 5}}`},
		},
		{
			name: "object comprehension key conflict",
			modules: mod(`package t
r := {x.k: x.v | some x in input.xs}`),
			inputs: []string{`{"xs": [{"k": 1, "v": 1}, {"k": 1, "v": 2}]}`, `{"xs": [{"k": 1, "v": 1}, {"k": 1, "v": 1}]}`, `{"xs": [{"k": 1}]}`},
			want:   map[string]string{`{"xs": [{"k": 1, "v": 1}, {"k": 1, "v": 2}]}`: `error`},
		},
		{
			name: "nested comprehensions",
			modules: mod(`package t
r := [{y | some y in row; y > i} | some i, row in input.c]
s := {k: [v | some v in vs; v != k] | some k, vs in input.b}
u := count({x | some row in input.c; some x in row; not x in input.xs})
q := [r, s, u]`),
			query:  "data.t.q",
			inputs: []string{`{"c": [[0, 1, 2], [3], []], "b": {"a": ["a", "b"]}, "xs": [1]}`},
		},
		{
			name: "some in over arrays objects and sets",
			modules: mod(`package t
arr := [[i, x] | some i, x in input.xs]
obj := [[k, v] | some k, v in input.b]
st := [[k, v] | some k, v in {x | some x in input.xs}]
vals := [v | some v in input.b]
r := [arr, obj, st, vals]`),
			inputs: []string{`{"xs": ["b", "a", "b"], "b": {"z": 1, "a": 2, "m": [3]}}`, `{"xs": "abc", "b": "abc"}`},
		},
		{
			name: "every",
			modules: mod(`package t
pos if every x in input.xs { x > 0 }
keys_short if every k, v in input.b { count(k) < 3; v != null }
r := {"pos": pos, "short": keys_short}
r := {"pos": false} if not pos`),
			inputs: []string{`{"xs": [1, 2], "b": {"a": 1}}`, `{"xs": [1, -2], "b": {"abc": 1}}`, `{"xs": [], "b": {}}`,
				`{"xs": 5, "b": "s"}`, `{"xs": {"k": 1}, "b": {"a": null}}`, `{"b": {"a": 1}}`},
		},
		{
			name: "not with missing fields and function calls",
			modules: mod(`package t
f(x) := x.k
default nothing := false
default no_k := false
default no_k_false := false
default absent_first := false
nothing if not input.a.b.c
no_k if not f(input.b)
no_k_false if not f(input.b) == false
absent_first if not input.xs[0]
r := [nothing, no_k, no_k_false, absent_first]
r := "fallback" if not nothing`),
			inputs: []string{`{"a": {"b": {"c": 1}}}`, `{"a": {"b": {"c": false}}, "b": {"k": false}}`, `{"b": {"k": 1}, "xs": [false]}`, `{"a": {"b": 5}}`},
		},
		{
			name: "membership with two and three operands",
			modules: mod(`package t
r := {
	"in": input.a in input.xs,
	"kin": [input.a, 1] in {[x, 1] | some x in input.xs},
	"kv": (1, input.a in input.xs),
	"objkv": ("p", input.a in input.b),
	"notin": not_in,
}
default not_in := false
not_in if not input.a in input.xs`),
			inputs: []string{`{"a": 2, "xs": [1, 2], "b": {"p": 2}}`, `{"a": 3, "xs": {"x": 3}, "b": {"p": 3}}`, `{"a": "x", "xs": "xyz", "b": []}`, `{"a": 1.0, "xs": [0, 1], "b": {"p": 1}}`},
			want:   map[string]string{`{"a": 1.0, "xs": [0, 1], "b": {"p": 1}}`: `{"in":true,"kin":true,"kv":true,"notin":false,"objkv":true}`},
		},
	})
}

func TestPatternsAndData(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "array destructuring",
			modules: mod(`package t
default pair := "no pair"
pair := {"a": a, "b": b} if [a, b] := input.a
default nested := "no"
nested := x if [[x, _], [_]] := input.c
r := [pair, nested]`),
			inputs: []string{`{"a": [1, 2]}`, `{"a": [1, 2, 3]}`, `{"a": [1]}`, `{"a": {"0": 1, "1": 2}}`, `{"a": "ab"}`, `{"c": [[7, 8], [9]]}`},
			want:   map[string]string{`{"a": [1, 2]}`: `[{"a":1,"b":2},"no"]`, `{"a": [1, 2, 3]}`: `["no pair","no"]`},
		},
		{
			name: "object patterns",
			modules: mod(`package t
default r := "no match"
r := [n, tags] if {
	{"name": n, "meta": {"tags": tags}} := input.b
}`),
			inputs: []string{`{"b": {"name": "x", "meta": {"tags": [1]}}}`, `{"b": {"name": "x", "meta": {"tags": [1]}, "extra": 1}}`, `{"b": {"name": "x"}}`, `{"b": ["name"]}`},
		},
		{
			name: "unification with variables on both sides",
			modules: mod(`package t
default r := "none"
r := [x, y] if {
	[x, 1] = [input.a, y]
}
s contains [k, v] if {
	some i
	[k, v] = input.c[i]
}
u := [r, s]`),
			query:  "data.t.u",
			inputs: []string{`{"a": 5, "c": [[1, 2], [3], "s", [4, 5]]}`, `{"a": null}`},
		},
		{
			name: "base documents",
			data: `{"users": {"alice": {"roles": ["admin"], "age": 30}, "bob": {"roles": [], "age": 17}},
				"limits": [10, 20, 30], "big": 12345678901234567890123, "flag": false}`,
			modules: mod(`package t
user := data.users[input.b]
admin if "admin" in user.roles
adults contains name if {
	some name, u in data.users
	u.age >= 18
}
default admin := false
r := {"user": object.get(data.users, input.b, null), "admin": admin, "adults": adults,
	"limit": data.limits[input.a], "big": data.big + 0, "flag": data.flag, "missing": object.get(data.users, ["alice", "nope"], "d"), "deep": object.get(data.users, ["alice", "roles", 0], "d")}`),
			inputs: []string{`{"b": "alice", "a": 1}`, `{"b": "bob", "a": 0}`, `{"b": "carol", "a": 2}`, `{"b": "alice", "a": 3}`, `{"b": "alice", "a": -1}`},
		},
		{
			name: "base documents beside rules in another package",
			data: `{"cfg": {"max": 3, "names": {"a": 1}}, "rules": {"threshold": 2}}`,
			modules: map[string]string{
				"rules.rego": `package rules
over if count(input.xs) > data.rules.threshold`,
				"t.rego": `package t
default r := "ok"
r := "over" if data.rules.over
r := "too many" if count(input.xs) > data.cfg.max`,
			},
			inputs: []string{`{"xs": [1, 2, 3]}`, `{"xs": [1, 2, 3, 4]}`, `{"xs": []}`},
			want:   map[string]string{`{"xs": [1, 2, 3]}`: `"over"`, `{"xs": [1, 2, 3, 4]}`: `error`},
		},
		{
			name: "iteration with index and index from a variable",
			modules: mod(`package t
pairs := [[i, x] | some i, x in input.xs]
default idx := "none"
idx := input.xs[input.a]
default next := "none"
next := input.xs[input.a + 1]
default last := "none"
last := input.xs[count(input.xs) - 1]
default nested := "none"
nested := input.c[input.a][0]
r := {"pairs": pairs, "idx": idx, "next": next, "last": last, "nested": nested}`),
			inputs: []string{`{"xs": [10, 20, 30], "a": 1}`, `{"xs": [10, 20, 30], "a": 3}`, `{"xs": [10, 20, 30], "a": -1}`,
				`{"xs": [10, 20, 30], "a": 1.0}`, `{"xs": [10, 20, 30], "a": 1.5}`, `{"xs": [10, 20, 30], "a": "1"}`,
				`{"xs": [10, 20, 30], "a": 1e0}`, `{"xs": {"1": "one"}, "a": 1}`, `{"c": [[5], [6]], "xs": [], "a": 1}`},
			// 1.0 indexes an array as 1 does; 1e0 does not (in both).
			want: map[string]string{
				`{"xs": [10, 20, 30], "a": 1.0}`: `{"idx":20,"last":30,"nested":"none","next":30,"pairs":[[0,10],[1,20],[2,30]]}`,
				`{"xs": [10, 20, 30], "a": 1e0}`: `{"idx":"none","last":30,"nested":"none","next":30,"pairs":[[0,10],[1,20],[2,30]]}`,
			},
		},
		{
			name: "float index constant",
			modules: mod(`package t
r := {"one": input.xs[1.0], "two": input.xs[2]}`),
			inputs: []string{`{"xs": ["a", "b", "c"]}`},
		},
	})
}
