package regoplan_test

import (
	"testing"
)

// Differentials of built-ins and numbers, built-in errors, lookups and
// edge cases, and control flow.

func TestBuiltinsAndNumbers(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "sprintf of sets objects and numbers",
			modules: mod(`package t
r := {
	"v": sprintf("%v|%v|%v", [{x | some x in input.xs}, input.b, input.xs]),
	"d": sprintf("%d items", [count(input.xs)]),
	"s": sprintf("%s/%s", [input.a, input.b]),
	"f": sprintf("%.2f", [input.n]),
}`),
			inputs: []string{`{"xs": [3, 1, "a"], "b": {"z": [1], "a": {"q": null}}, "a": "s", "n": 1.23456}`,
				`{"xs": [], "b": "x", "a": 5, "n": "s"}`, `{"xs": [1], "b": {}, "a": [1], "n": 12345678901234567890}`},
		},
		{
			name: "aggregates on empty and mixed collections",
			modules: mod(`package t
agg(xs) := {"count": count(xs), "sum": object.get({"v": sum(xs)}, "v", "undefined"), "max": object.get({"v": max(xs)}, "v", "undefined"),
	"min": object.get({"v": min(xs)}, "v", "undefined")}
default r := "undefined"
r := agg(input.xs)`),
			inputs: []string{`{"xs": []}`, `{"xs": [3, 1.5, -2]}`, `{"xs": ["b", "a"]}`, `{"xs": [1, "a"]}`, `{"xs": {"k": 1}}`, `{"xs": "abc"}`},
		},
		{
			name: "aggregates defaulted",
			modules: mod(`package t
default s := "no sum"
s := sum(input.xs)
default mx := "no max"
mx := max(input.xs)
default mn := "no min"
mn := min(input.xs)
r := [count([x | some x in input.xs]), s, mx, mn]`),
			inputs: []string{`{"xs": []}`, `{"xs": [3, 1.5, -2]}`, `{"xs": ["b", "a"]}`, `{"xs": [1, "a"]}`, `{"xs": [1e30, 1]}`},
			want:   map[string]string{`{"xs": []}`: `[0,0,"no max","no min"]`},
		},
		{
			name: "string built-ins",
			modules: mod(`package t
default r := "undefined"
r := {
	"upper": upper(input.a),
	"split": split(input.a, ","),
	"concat": concat("-", split(input.a, ",")),
	"trim": trim_space(input.a),
	"prefix": startswith(input.a, "a"),
	"contains": contains(input.a, "b"),
	"replace": replace(input.a, ",", ";"),
	"sub": substring(input.a, 1, 2),
	"count": count(input.a),
	"fmt": format_int(count(input.a), 16),
	"idx": indexof(input.a, "é"),
}`),
			inputs: []string{`{"a": "a,b,c"}`, `{"a": " héllo, wörld "}`, `{"a": ""}`, `{"a": "ébb"}`},
		},
		{
			name: "object built-ins and json",
			modules: mod(`package t
default r := "undefined"
r := {
	"get": object.get(input.b, "k", "default"),
	"get_path": object.get(input.b, ["k", 0], "default"),
	"union": object.union(input.b, {"k": "override", "new": 1}),
	"union_n": object.union_n([input.b, {"x": {"y": 1}}]),
	"remove": object.remove(input.b, ["k"]),
	"keys": object.keys(input.b),
	"marshal": json.marshal(input.b),
	"unmarshal": json.unmarshal(json.marshal(input.b)),
	"filter": json.filter(input.b, ["k"]),
}`),
			inputs: []string{`{"b": {"k": [1, 2], "z": {"y": 2}}}`, `{"b": {}}`, `{"b": {"k": "v", "1": null}}`, `{"b": []}`},
		},
		{
			name: "regular expressions and globs",
			modules: mod(`package t
default r := "undefined"
r := {
	"match": regex.match("^[a-z]+[0-9]*$", input.a),
	"find": regex.find_n("[0-9]+", input.a, -1),
	"split": regex.split("[,;]", input.a),
	"repl": regex.replace(input.a, "[0-9]", "#"),
	"glob": glob.match("a*.b", ["."], input.a),
}`),
			inputs: []string{`{"a": "abc123"}`, `{"a": "a1,b22;c"}`, `{"a": "ax.b"}`, `{"a": ""}`},
		},
		{
			name: "bad regular expression",
			modules: mod(`package t
default r := "invalid pattern"
r := regex.match(input.a, "x")`),
			inputs: []string{`{"a": "x"}`, `{"a": "("}`, `{"a": "[a-"}`},
			want:   map[string]string{`{"a": "("}`: `"invalid pattern"`, `{"a": "x"}`: `true`},
		},
		{
			name: "numbers",
			modules: mod(`package t
r := {
	"eq": 1 == 1.0,
	"eq_in": input.a == 1,
	"in_set": input.a in {1, 2},
	"key": object.get({1: "one"}, input.a, "missing"),
	"big": 12345678901234567890 + 1,
	"bigger": 123456789012345678901234567890,
	"big_in": input.big,
	"big_plus": input.big + 1,
	"big_eq": input.big == 98765432109876543210987654321,
	"dec": input.dec,
	"dec_mul": input.dec * 2,
	"div": 7 / 2,
	"rem": 7 % 3,
	"round": round(2.5),
	"neg_zero": -0,
	"float": 0.1 + 0.2,
	"exp": 1e3,
}`),
			inputs: []string{`{"a": 1, "big": 98765432109876543210987654321, "dec": 0.1000000000000000055511151231257827}`,
				`{"a": 1.0, "big": 1e30, "dec": 3.14159265358979323846264338327950288}`,
				`{"a": 1e0, "big": -1, "dec": 1E-7}`},
		},
		{
			name: "arithmetic and comparison across types",
			modules: mod(`package t
default less := "undefined"
less := input.a < input.b
default sum2 := "undefined"
sum2 := input.a + input.b
default quot := "undefined"
quot := input.a / input.b
default setdiff := "undefined"
setdiff := {x | some x in input.a} - {x | some x in input.b}
r := [less, sum2, quot, setdiff]`),
			inputs: []string{`{"a": 1, "b": 2}`, `{"a": 1, "b": 0}`, `{"a": "a", "b": 1}`, `{"a": [1, 2], "b": [2]}`, `{"a": null, "b": false}`, `{"a": {"x": 1}, "b": {"x": 1}}`},
		},
		{
			name: "type built-ins and casts",
			modules: mod(`package t
default num := "not a number"
num := to_number(input.a)
r := {"type": type_name(input.a), "num": num, "is": [is_string(input.a), is_number(input.a), is_array(input.a), is_object(input.a), is_set(input.a), is_null(input.a), is_boolean(input.a)]}`),
			inputs: []string{`{"a": "12"}`, `{"a": "x"}`, `{"a": "1e3"}`, `{"a": true}`, `{"a": null}`, `{"a": 5}`},
			want:   map[string]string{`{"a": "x"}`: `{"is":[true,false,false,false,false,false,false],"num":"not a number","type":"string"}`},
		},
		{
			name: "array and set built-ins",
			modules: mod(`package t
default r := "undefined"
r := {
	"concat": array.concat(input.xs, [9]),
	"slice": array.slice(input.xs, 1, 2),
	"reverse": array.reverse(input.xs),
	"sort": sort(input.xs),
	"union": union({{1}, {x | some x in input.xs}}),
	"intersection": intersection({{1, 2}, {x | some x in input.xs}}),
	"any": [x | some x in input.xs; x == 2],
}`),
			inputs: []string{`{"xs": [3, 2, 1]}`, `{"xs": []}`, `{"xs": ["b", 1, null]}`, `{"xs": {"a": 1}}`},
		},
		{
			name: "encoding and hashing built-ins",
			modules: mod(`package t
default r := "undefined"
r := {
	"b64": base64.encode(input.a),
	"unb64": base64.decode(base64.encode(input.a)),
	"url": urlquery.encode(input.a),
	"sha": crypto.sha256(input.a),
	"hex": hex.encode(input.a),
	"yaml": yaml.marshal({"k": input.a}),
	"units": units.parse_bytes("10KiB"),
	"semver": semver.compare("1.2.3", "1.10.0"),
	"net": net.cidr_contains("10.0.0.0/8", "10.1.2.3"),
}`),
			inputs: []string{`{"a": "hello world"}`, `{"a": ""}`, `{"a": 1}`},
		},
		{
			name: "time built-ins of their operands",
			modules: mod(`package t
default r := "undefined"
r := {
	"parse": time.parse_rfc3339_ns(input.a),
	"date": time.date(time.parse_rfc3339_ns(input.a)),
	"add": time.add_date(time.parse_rfc3339_ns(input.a), 0, 1, 0),
	"fmt": time.format([time.parse_rfc3339_ns(input.a), "UTC", "2006-01-02"]),
}`),
			inputs: []string{`{"a": "2024-02-29T12:00:00Z"}`, `{"a": "not a time"}`, `{"a": 5}`},
		},
	})
}

func TestBuiltinErrorsAreUndefined(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "type errors at run time",
			modules: mod(`package t
default c := "undefined"
c := count(input.a)
default n := "undefined"
n := to_number(input.a)
default u := "undefined"
u := upper(input.a)
default d := "undefined"
d := 1 / input.b
r := [c, n, u, d]`),
			inputs: []string{`{"a": 5, "b": 0}`, `{"a": "x", "b": "y"}`, `{"a": "12", "b": 2}`, `{"a": [1], "b": null}`},
			want:   map[string]string{`{"a": 5, "b": 0}`: `["undefined",5,"undefined","undefined"]`},
		},
		{
			name: "errors inside not",
			modules: mod(`package t
default r := []
r := [a, b, c] if {
	a := not_count
	b := not_num
	c := not_div
}
default not_count := false
not_count if not count(input.a) > 0
default not_num := false
not_num if not to_number(input.a)
default not_div := false
not_div if not 1 / input.b`),
			inputs: []string{`{"a": 5, "b": 0}`, `{"a": "x", "b": 1}`, `{"a": [], "b": "s"}`, `{"a": "0", "b": 0}`},
		},
		{
			name: "errors inside functions and comprehensions",
			modules: mod(`package t
f(x) := count(x)
f(x) := -1 if {
	not is_string(x)
	not is_array(x)
	not is_object(x)
	not is_set(x)
}
r := [f(x) | some x in input.xs]`),
			inputs: []string{`{"xs": [5, "ab", [1], null, {"a": 1}]}`, `{"xs": []}`},
		},
		{
			name: "sprintf with bad operands",
			modules: mod(`package t
default r := "undefined"
r := sprintf(input.a, input.xs)`),
			inputs: []string{`{"a": "%d", "xs": ["s"]}`, `{"a": "%v %v", "xs": [1]}`, `{"a": "%s", "xs": "notarray"}`, `{"a": 5, "xs": []}`},
		},
	})
}

func TestLookupsAndEdges(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "function conflict within one definition's iteration",
			modules: mod(`package t
f(x) := y if some y in x
r := f(input.xs)`),
			inputs: []string{`{"xs": [1, 2]}`, `{"xs": [1, 1.0]}`, `{"xs": [1]}`},
			want:   map[string]string{`{"xs": [1, 2]}`: `error`, `{"xs": [1]}`: `1`},
		},
		{
			name: "lookups in sets and objects with equal numbers",
			modules: mod(`package t
default in_set := "none"
in_set := {x | some x in input.a}[input.k]
default in_obj := "none"
in_obj := input.b[input.k]
default in_lit := "none"
in_lit := {1.0: "a"}[input.k]
r := [in_set, in_obj, in_lit]`),
			inputs: []string{`{"a": [1.0], "k": 1, "b": {"1": "s"}}`, `{"a": [1], "k": 1.0}`, `{"a": [false], "k": false, "b": {"false": 1}}`},
		},
		{
			name: "false values found by lookups",
			modules: mod(`package t
s contains x if some x in input.xs
default by_rule := false
by_rule if s[input.a]
default by_set := false
by_set if {x | some x in input.xs}[input.a]
default by_obj := false
by_obj if input.b[input.a]
r := [by_rule, by_set, by_obj]`),
			inputs: []string{`{"xs": [false], "a": false, "b": {"false": false}}`, `{"xs": [1], "a": 1, "b": {"1": 1}}`, `{"b": {"x": 0}, "a": "x"}`},
		},
		{
			name: "partial rules looked up and iterated",
			modules: mod(`package t
s contains x if some x in input.xs
o[k] := 1 if some k in input.xs
default in_s := "no"
in_s := s[input.a]
default in_o := "no"
in_o := o[input.a]
pairs := [[k, v] | some k; v := o[k]]
r := [in_s, in_o, pairs]`),
			inputs: []string{`{"xs": ["a", "b"], "a": "a"}`, `{"xs": ["a"], "a": "z"}`},
		},
		{
			name: "rule heads with refs",
			modules: mod(`package t
a.b[input.k] := 1
a.c := 2
q[x][y] := z if {
	some x, ys in input.b
	some y, z in ys
}
r := [data.t.a.b, q]`),
			inputs: []string{`{"k": "x", "b": {"a": {"p": 1}, "c": {"p": 2, "q": 3}}}`, `{"k": 1, "b": {"a": [5]}}`},
		},
		{
			name: "default functions",
			modules: mod(`package t
default f(_) := "d"
f(x) := "pos" if x > 0
r := [f(1), f(-1), f("s"), f(input.a)]`),
			inputs: []string{`{"a": 0}`, `{"a": 5}`},
		},
		{
			name: "base documents iterated and looked up at run time",
			data: `{"p": {"x": 1, "y": [2]}, "users": [{"n": "a", "r": ["x"]}, {"n": "b", "r": []}]}`,
			modules: mod(`package t
roles[u.n] := u.r if some u in data.users
default dyn := "none"
dyn := data.p[input.k]
r := [[[k, v] | some k; v := data.p[k]], {n | some n, rs in roles; count(rs) > 0}, dyn]`),
			inputs: []string{`{"k": "x"}`, `{"k": "z"}`, `{"k": 1}`},
		},
		{
			name: "else with iteration and conflicts",
			modules: map[string]string{
				"t.rego": `package t
r := x if {
	some x in input.xs
	x > 1
} else := 0`,
				"u.rego": `package u
r := 1 if input.a else := 2
r := 2 if input.b`,
			},
			inputs: []string{`{"xs": [2, 3]}`, `{"xs": [2, 2]}`, `{"xs": [1]}`},
			want:   map[string]string{`{"xs": [2, 3]}`: `error`, `{"xs": [2, 2]}`: `2`, `{"xs": [1]}`: `0`},
		},
		{
			name:  "else of one rule conflicting with another body",
			query: "data.u.r",
			modules: mod(`package u
r := 1 if input.a else := 2
r := 2 if input.b`),
			inputs: []string{`{"a": true, "b": true}`, `{"a": false, "b": true}`},
			want:   map[string]string{`{"a": true, "b": true}`: `error`, `{"a": false, "b": true}`: `2`},
		},
		{
			name: "more built-ins",
			modules: mod(`package t
default r := "undefined"
r := {
	"range": numbers.range(input.a, input.b),
	"concat": concat(",", {format_int(x, 10) | some x in numbers.range(input.a, input.b)}),
	"prefix": strings.any_prefix_match(["xa", "b"], ["x", "y"]),
	"patch": json.patch({}, [{"op": "add", "path": "/x", "value": input.a}]),
}`),
			inputs: []string{`{"a": 1, "b": 3}`, `{"a": 3, "b": 1}`, `{"a": 1.5, "b": 3}`},
		},
		{
			// walk is the one relation among OPA's built-ins: topdown's
			// implementation calls its output once per [path, value], and
			// the plan wants all of them as one collection (it scans the
			// call's result). regoplan once kept only the last output.
			name: "walk",
			modules: mod(`package t
r := {
	"pairs": [[p, v] | walk(input, [p, v])],
	"ones": {p | walk(input.b, [p, 1])},
}`),
			inputs: []string{`{"a": {"b": [1, {"c": 2}]}, "b": {"x": 1, "y": [1, 2]}}`},
			want: map[string]string{`{}`: `{"ones":[],"pairs":[[[],{}]]}`,
				`{"a": {"b": [1, {"c": 2}]}, "b": {"x": 1, "y": [1, 2]}}`: `{"ones":[["x"],["y",0]],"pairs":[[[],{"a":{"b":[1,{"c":2}]},"b":{"x":1,"y":[1,2]}}],[["a"],{"b":[1,{"c":2}]}],[["a","b"],[1,{"c":2}]],[["a","b",0],1],[["a","b",1],{"c":2}],[["a","b",1,"c"],2],[["b"],{"x":1,"y":[1,2]}],[["b","x"],1],[["b","y"],[1,2]],[["b","y",0],1],[["b","y",1],2]]}`},
		},
	})
}

// TestControlFlow nests iteration, negation and every, where a plan's
// breaks must leave exactly the right number of blocks.
func TestControlFlow(t *testing.T) {
	runDifferentials(t, []differential{
		{
			name: "not around an iteration",
			modules: mod(`package t
default no_one := false
no_one if not has_one
has_one if input.xs[_] == 1
default no_pair := false
no_pair if not pair_equal
pair_equal if {
	some x in input.xs
	some y in input.c
	x == y
}
r := [no_one, no_pair]`),
			inputs: []string{`{"xs": [1, 2], "c": [3]}`, `{"xs": [2], "c": [2]}`, `{"xs": [], "c": []}`},
			want:   map[string]string{`{"xs": [1, 2], "c": [3]}`: `[false,true]`, `{"xs": [2], "c": [2]}`: `[true,false]`},
		},
		{
			name: "every nested in every and in comprehensions",
			modules: mod(`package t
default grid := false
grid if every row in input.c { every x in row { x > 0 } }
default single := false
single if every i, x in input.xs { every j, y in input.xs { i == j; x == y } }
default no_neg := false
no_neg if every x in input.xs { not x < 0 }
rows_ok := [i | some i, row in input.c; every x in row { is_number(x) }]
r := [grid, single, no_neg, rows_ok]`),
			inputs: []string{`{"c": [[1, 2], [3]], "xs": [1]}`, `{"c": [[1, 0], []], "xs": [1, 2]}`, `{"c": [[1]], "xs": [1, 1]}`, `{"c": [], "xs": [-1]}`, `{"c": [["s"], [1]], "xs": []}`},
		},
		{
			name: "patterns in some in",
			modules: mod(`package t
firsts := [a | some [a, _] in input.c]
objs := [n | some {"n": n} in input.a]
kv := [[k, a] | some k, [a, 1] in input.b]
r := [firsts, objs, kv]`),
			inputs: []string{`{"c": [[1, 2], [3], [4, 5, 6], [7, 8]], "a": [{"n": 1}, {"n": 2, "m": 3}, {"m": 1}], "b": {"x": [0, 1], "y": [0, 2]}}`},
		},
		{
			name: "complete rule decided inside nested scans",
			modules: mod(`package t
default r := "none"
r := "found" if {
	some row in input.c
	some x in row
	x == input.a
}`),
			inputs: []string{`{"c": [[1], [2, 3], [3]], "a": 3}`, `{"c": [[1]], "a": 3}`},
			want:   map[string]string{`{"c": [[1], [2, 3], [3]], "a": 3}`: `"found"`, `{"c": [[1]], "a": 3}`: `"none"`},
		},
		{
			name: "iteration by ref with wildcards and keys",
			modules: mod(`package t
keys_of_one := {k | input.b[k] == 1}
idx_of_two := [i | input.xs[i] == 2]
deep := [v | v := input.c[_][_]]
r := [keys_of_one, idx_of_two, deep]`),
			inputs: []string{`{"b": {"x": 1, "y": 2, "z": 1.0}, "xs": [2, 1, 2], "c": [[1, 2], {"k": 3}, "s"]}`},
		},
		{
			name: "functions of composite arguments and comprehension arguments",
			modules: mod(`package t
f([a, b]) := a + b
g({"k": v}) := v
h(s) := count(s)
r := [object.get({"v": f(input.c[0])}, "v", null), [g(x) | some x in input.a], h({x | some x in input.xs})]`),
			inputs: []string{`{"c": [[1, 2]], "a": [{"k": 1}, {"k": 2, "j": 3}, {"j": 1}], "xs": [1, 1, 2]}`, `{"c": [[1]], "a": [], "xs": []}`},
		},
	})
}
