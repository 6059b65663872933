# Meridian's default policy pack: where a statement may run, and whether it
# may run at all, under the GDPR facts of GOVERNANCE.md.
#
# The decision is data.meridian.decision. It is assembled here; each concept
# adds violations from its own file (statement.rego, residency.rego,
# purpose.rego, special.rego, writes.rego). Facts a compliance team changes
# without touching rules live in data/*.json, loaded at data.data (see
# doc.go): data.data.adequacy, data.data.transfers, data.data.grants,
# data.data.settings.
#
# Input, version 1 (GOVERNANCE.md, "Decision input"), with what the planner
# adds:
#
#   version                     1; any other value is denied (input.invalid).
#   subject.user                the caller; subject.groups: its groups;
#   subject.region              where the results go (the recipient);
#   subject.purposes            the purposes the user may process personal
#                               data for.
#   request.purpose             the declared purpose ("" if none): the session
#                               property purpose, else the client tag
#                               purpose=…. When it is empty the policy also
#                               reads one purpose=… tag in request.client_tags
#                               itself. Purposes compare lower-case.
#   statement.kind              select, insert, create_table_as, merge, …
#   statement.analysis          "ast" (fully analysed) or "conservative" (the
#                               tables are over-approximated); any other
#                               value counts as conservative.
#   statement.opaque            reasons the statement's tables cannot be
#                               known (pass-through table functions, dynamic
#                               EXECUTE IMMEDIATE, …); non-empty is denied.
#   statement.writes_to         [{table, region}]: write targets (INSERT,
#                               CTAS, MERGE, UPDATE, DELETE).
#   tables[]                    every table touched, once per way it is
#                               touched:
#     name                      catalog.schema.table
#     access                    read | write | ddl | meta
#     region                    the table's residency region, or "unknown"
#     classification            public | internal | personal | special | ""
#                               ("" or anything else counts as personal)
#     purposes                  purposes the data may be processed for
#     pii_columns_read          personal columns read anywhere
#     pii_in_output             personal columns whose raw values reach the
#                               output
#     output_aggregated         true when every output column carrying this
#                               table's data is only aggregated
#     pii_grouped_by            personal columns used as GROUP BY keys: such
#                               an aggregate describes one person, so it
#                               counts as raw personal output
#   regions                     region -> {jurisdiction, healthy}; only these
#                               regions are ever listed. A region without a
#                               jurisdiction counts as unknown. healthy is the
#                               planner's concern, not the policy's.
#
# Missing or null arrays count as empty, a missing output_aggregated as
# false, a missing access as read: a gap in the input can only deny more.
#
# Output:
#
#   {"allow": bool, "regions": [sorted regions where it may execute],
#    "violations": [{"rule", "table", "message"}] (sorted by rule, table),
#    "obligations": {"audit": "full", "min_group_size": k}}
#
# allow is true only when there are no violations and regions is not empty.
# obligations.min_group_size is present only when an aggregate export was
# allowed (see residency.rego): the engine must then suppress groups smaller
# than k (HAVING count(*) >= k); the policy cannot count rows.
#
# Rule ids (stable; decision records and dashboards key on them):
#
#   input.invalid             input.version is not 1, or a field has the
#                             wrong type (statement.rego)
#   statement.opaque          the statement's tables cannot be known
#                             (statement.rego)
#   statement.conservative    conservative analysis of a statement that
#                             touches personal data (statement.rego)
#   region.unknown            a table's region is unknown while the statement
#                             touches personal data (residency.rego)
#   region.none               no configured region may run the statement, and
#                             no other rule says why (residency.rego)
#   gdpr.residency            the statement's personal data of several
#                             jurisdictions cannot be processed in one common
#                             region (residency.rego)
#   gdpr.transfer             personal output would reach a recipient outside
#                             what the data's jurisdiction allows
#                             (residency.rego)
#   gdpr.purpose              no purpose, or one the table or the user is not
#                             permitted (purpose.rego)
#   gdpr.special_category     special-category data without a DPO grant
#                             (special.rego)
#   gdpr.cross_border_write   a write would copy personal data into another
#                             jurisdiction (writes.rego)
package meridian

decision := {
	"allow": allow,
	"regions": sort(execution_regions),
	"violations": violations,
	"obligations": obligations,
}

default allow := false

allow if {
	count(all_violations) == 0
	count(execution_regions) > 0
}

all_violations := violation | region_none

# Sorted by rule, then table, then message, so that equal inputs give equal
# decisions, byte for byte.
violations := [{"rule": v[0], "table": v[1], "message": v[2]} |
	some v in sort([[x.rule, x.table, x.message] | some x in all_violations])
]

obligations := {"audit": "full", "min_group_size": min_group_size} if {
	aggregate_exports > 0
} else := {"audit": "full"}

# Shared vocabulary of the rules. The decision is on the path of every
# statement, and evaluation costs about one step per expression and per
# table, so: each view of the tables is a complete rule computed once per
# decision, a rule that cannot fire is cut short by a cheap guard, lookups are
# by key into objects and sets, no rule uses `with`, and the functions that
# build messages run only when a rule fires.

# Input sections, with the wrong types replaced by empty values so that the
# rules below stay defined (input.invalid reports the wrong types). Tables
# that are not objects are dropped here and reported by input.invalid.
tables := [t | some t in input.tables; is_object(t)] if {
	is_array(input.tables)
} else := []

subject := input.subject if {
	is_object(input.subject)
} else := {}

request := input.request if {
	is_object(input.request)
} else := {}

statement := input.statement if {
	is_object(input.statement)
} else := {}

writes_to := array_field(statement, "writes_to")

opaque := array_field(statement, "opaque")

# Groups and purposes are compared as given: Meridian's configuration, like
# the catalog for table purposes, holds them as lower-case words. A wrong
# type reads as no group and no purpose.
subject_groups := object.get(subject, "groups", [])

subject_purposes := object.get(subject, "purposes", [])

subject_region := object.get(subject, "region", "")

user := subject.user if {
	is_string(subject.user)
} else := ""

# array_field is obj[key] when it is an array, else [] (absent, null).
array_field(obj, key) := obj[key] if {
	is_array(obj[key])
} else := []

name(t) := t.name if {
	is_string(t.name)
	t.name != ""
} else := "(unnamed table)"

normalize(s) := lower(trim_space(s))

# A ref to a missing field inside `not` makes the whole expression undefined,
# not false (`not s[t.x]` fails when t has no x), so the negations below read
# fields with object.get: a missing field must deny, never allow.

# Classes that are not personal data. Anything else, including unclassified
# (""), a missing classification and a value this pack does not know, is
# personal: never public by default.
non_personal_classes := {"public", "internal"}

personal(t) if not non_personal_classes[object.get(t, "classification", "")]

# ddl and meta touch only a table's definition; read, write and any access
# this pack does not know process its rows.
definition_only := {"ddl", "meta"}

# Views of the tables.
accesses := {object.get(t, "access", "") | some t in tables}

table_region_names := {object.get(t, "region", "") | some t in tables}

personal_tables := [t | some t in tables; not non_personal_classes[object.get(t, "classification", "")]]

touches_personal if count(personal_tables) > 0

# Personal data whose rows are read or written.
personal_processed := [t | some t in personal_tables; not definition_only[object.get(t, "access", "")]]

# Personal data whose rows are read (any access but write), so it may reach
# the output.
personal_read := personal_processed if {
	not "write" in accesses
} else := [t | some t in personal_processed; object.get(t, "access", "") != "write"]

# Configured regions and their jurisdictions.
region_jurisdiction := {r: j |
	some r, info in input.regions
	j := info.jurisdiction
	is_string(j)
	j != ""
}

configured_regions := {r | some r, _ in region_jurisdiction}

# The declared purpose, "" when none.
purpose := normalize(request.purpose) if {
	is_string(request.purpose)
	trim_space(request.purpose) != ""
} else := p if {
	count(tag_purposes) == 1
	some p in tag_purposes
} else := ""

tag_purposes := {p |
	some tag in array_field(request, "client_tags")
	is_string(tag)
	startswith(tag, "purpose=")
	p := normalize(substring(tag, count("purpose="), -1))
	p != ""
}

# may_transfer holds when personal data of jurisdiction from may be
# processed in, or sent to, jurisdiction to for purpose: the same
# jurisdiction, an adequacy decision, or a transfer mechanism recorded for
# that destination and purpose.
may_transfer(from, to, _) if from == to

may_transfer(from, to, _) if data.data.adequacy[from][to]

may_transfer(from, to, p) if data.data.transfers[from][to][p]

# list renders a set or array of strings for messages.
list(s) := x if {
	count(s) > 0
	x := concat(", ", sort(s))
} else := "none"

purpose_text := x if {
	purpose != ""
	x := sprintf("for purpose %q", [purpose])
} else := "without a declared purpose"
