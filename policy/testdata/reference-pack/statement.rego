# The statement as a whole: input version and shape, opaque statements, and
# conservative analysis.
package meridian

# input.invalid: this pack reads input version 1 only.
violation contains {"rule": "input.invalid", "table": "", "message": msg} if {
	not input.version == 1
	msg := sprintf(
		"policy input version %v is not supported: this policy pack reads version 1; upgrade the policy pack or Meridian so that they match",
		[input_version],
	)
}

input_version := v if {
	v := input.version
} else := null

# input.invalid: a field of the wrong type would hide what it should say.
# Absent and null fields count as empty. well_formed is the quick check on
# the path of every decision; the details are computed only when it fails.
#
# Each field is named by its path, and only its type is read: the rules
# never read the request whole, so that the decision cache can leave the
# query id out of its key (policy/cache.go).
violation contains invalid(path, kind) if {
	not well_formed
	some path, [kind, actual] in field_types
	not actual in {kind, "null"}
}

field_types["tables"] := ["array", type_name(input.tables)]

field_types["subject"] := ["object", type_name(input.subject)]

field_types["request"] := ["object", type_name(input.request)]

field_types["statement"] := ["object", type_name(input.statement)]

field_types["statement.opaque"] := ["array", type_name(input.statement.opaque)]

field_types["statement.writes_to"] := ["array", type_name(input.statement.writes_to)]

violation contains invalid(sprintf("tables.%d", [i]), "object") if {
	not well_formed
	is_array(input.tables)
	some i, t in input.tables
	not is_object(t)
}

# The rules read each of these fields as what it holds when its type is
# right, else as empty, so a wrong type could hide what the field says; the
# input is well formed when that reading changes nothing. (A null or absent
# field fails this quick check too; the detailed rules above accept it.)
# Other fields (regions, groups, purposes, client tags, the fields of a
# table) can only deny more when their type is wrong or they are missing, so
# they are not checked (see meridian.rego, "How the rules stay fast").
well_formed if {
	is_array(input.tables)
	count(view.tables) == count(input.tables)
	is_object(input.subject)
	is_object(input.request)
	is_object(input.statement)
	is_array(input.statement.opaque)
	is_array(input.statement.writes_to)
}

invalid(path, kind) := {
	"rule": "input.invalid",
	"table": "",
	"message": sprintf("policy input field %s must be an %s: fix the policy input Meridian builds", [path, kind]),
}

# statement.opaque: the statement's tables cannot be known, so nothing it
# touches can be checked.
violation contains {"rule": "statement.opaque", "table": "", "message": msg} if {
	is_array(input.statement.opaque)
	some reason in input.statement.opaque
	msg := sprintf(
		"Meridian cannot know which tables this statement touches (%v), so it is denied: run the statement it stands for directly, in plain SQL, instead of a pass-through table function or EXECUTE IMMEDIATE of a dynamic string",
		[reason],
	)
}

# statement.conservative: the tables of a statement that was not fully
# analysed are over-approximated and its columns unknown; that is enough only
# when no table holds personal data.
violation contains {"rule": "statement.conservative", "table": name(t), "message": msg} if {
	not input.statement.analysis == "ast"
	some t in personal_tables
	msg := sprintf(
		"the statement could not be fully analysed (analysis %v) and %s holds personal data (classification %v); conservative analysis is allowed only when every table is non-personal: rewrite the statement in SQL Meridian can parse (see the parse error), or query only non-personal tables",
		[object.get(statement, "analysis", null), name(t), object.get(t, "classification", null)],
	)
}
