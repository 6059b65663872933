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
# Null arrays count as empty (Go marshals a nil slice as null), and so do a
# missing tables, statement.opaque or statement.writes_to. Any other gap in
# the input can only deny more: a missing classification counts as personal,
# access as read, region as unknown, purposes as none, output_aggregated as
# false, and a missing pii_in_output or pii_grouped_by as personal columns in
# the output (so not an aggregate export).
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

# allow is true only without violations and with a region to run in.
# Violations are sorted by rule, then table, then message, so that equal
# inputs give equal decisions, byte for byte.
decision := {
	"allow": [count(found), count(regions) > 0] == [0, true],
	"regions": regions,
	"violations": [{"rule": v[0], "table": v[1], "message": v[2]} |
		some v in sort([[x.rule, x.table, x.message] | some x in found])
	],
	"obligations": object.union({"audit": "full"}, {"min_group_size": k |
		view.aggregate_exports > 0
		k := min_group_size
	}),
} if {
	found := violation | region_none
	regions := sort(view.execution_regions)
}

# How the rules stay fast. The decision is on the path of every statement,
# and OPA's cost is about one step per expression evaluated, with the first
# evaluation of a rule, each comprehension and each function call costing
# several. So what the rules need to know about the input is computed once,
# in one rule (view, below), each view of the tables narrowing the previous
# one; every violation rule starts with a cheap guard on view and walks only
# a narrow view; policy data is read by key, only for the pairs of
# jurisdictions the statement involves; functions run only once a rule's
# guard has passed (and to read a purpose from client tags); messages are
# built only when a rule fires; no rule uses `with`.
#
# Fields are read directly (t.access, not object.get(t, "access", "")), and
# how each read is written decides what a missing field means, which must be
# a deny, never an allow:
#
#   - an undefined ref makes a positive expression fail: the element leaves
#     the view (t.output_aggregated == true: a missing one is not
#     aggregated);
#   - `not t.f == v` holds when t.f is missing (a missing classification is
#     personal; a missing access is neither ddl, meta nor write);
#   - but OPA evaluates a ref nested in another ref, or in a call's argument,
#     before the `not`: `not s[t.f]` and `not v in t.f` FAIL when t.f is
#     missing, which would let the element through. Such negations read the
#     field with object.get, or run only when a positive view is short (see
#     purposed_reads);
#   - a builtin given a value of the wrong type (object.get on a string)
#     fails, and inside a comprehension that drops the element, which in
#     blocked would permit a transfer: builtins there read only values of a
#     known type, and policy data is read by ref.
#
# The tests of missing fields in *_test.rego pin these readings.

# Input sections, with the wrong types replaced by empty values so that the
# rules stay defined (input.invalid reports the wrong types).
subject := input.subject if {
	is_object(input.subject)
} else := {}

statement := input.statement if {
	is_object(input.statement)
} else := {}

writes_to := statement.writes_to if {
	is_array(statement.writes_to)
} else := []

# Groups and purposes are compared as given: Meridian's configuration, like
# the catalog for table purposes, holds them as lower-case words. A wrong
# type reads as no group and no purpose.
subject_groups := object.get(subject, "groups", [])

subject_purposes := x if {
	x := input.subject.purposes
} else := []

# The recipient's region (what object.get(subject, "region", "") would
# read).
subject_region := x if {
	x := input.subject.region
} else := ""

user := subject.user if {
	is_string(subject.user)
} else := ""

# Configured regions and their jurisdictions.
region_jurisdiction := {r: j |
	some r, info in input.regions
	j := info.jurisdiction
	is_string(j)
	j != ""
}

# The declared purpose, "" when none.
purpose := lower(trim_space(input.request.purpose)) if {
	is_string(input.request.purpose)
	trim_space(input.request.purpose) != ""
} else := p if {
	count(tag_purposes) == 1
	some p in tag_purposes
} else := ""

# The client tags; a wrong type reads as none.
client_tags := x if {
	x := input.request.client_tags
	is_array(x)
} else := []

tag_purposes := {p |
	some tag in client_tags
	is_string(tag)
	startswith(tag, "purpose=")
	p := normalize(substring(tag, count("purpose="), -1))
	p != ""
}

# Policy data. Missing data (a pack loaded without its data files) reads as
# empty: no adequacy, no mechanism, no grant, no aggregate export.
adequacy := x if {
	x := data.data.adequacy
} else := {}

transfers := x if {
	x := data.data.transfers
} else := {}

# Aggregate export is enabled only with a usable k.
default aggregate_export_enabled := false

aggregate_export_enabled if {
	data.data.settings.aggregate_export.enabled == true
	min_group_size >= 1
}

min_group_size := k if {
	k := data.data.settings.aggregate_export.min_group_size
	is_number(k)
}

# view is what the rules know about the input: one rule, evaluated once per
# decision, defined for any input (every step below is a comprehension or a
# total builtin).
view := {
	"tables": tables,
	"personal_processed": personal_processed,
	"personal_read": personal_read,
	"special_reads": special_reads,
	"purposed_reads": purposed_reads,
	"writes": writes,
	"configured_regions": configured_regions,
	"unknown_regions": unknown_regions,
	"processed_jurisdictions": processed_jurisdictions,
	"execution_regions": execution_regions,
	"exports": exports,
	"aggregate_exports": count(aggregate_exports),
} if {
	rj := region_jurisdiction
	p := purpose
	sr := subject_region
	writes_to := [w | is_array(input.statement.writes_to); some w in input.statement.writes_to]

	# Tables that are not objects are dropped here and reported by
	# input.invalid.
	tables := [t | is_array(input.tables); some t in input.tables; is_object(t)]

	# Personal data (see personal) whose rows are read or written: ddl and
	# meta touch only a table's definition; read, write, an access this pack
	# does not know and a missing access process its rows ...
	personal_processed := [t |
		some t in tables
		not t.classification == "public"
		not t.classification == "internal"
		not t.access == "ddl"
		not t.access == "meta"
	]

	# ... and whose rows are read (any access but write), so they may reach
	# the output.
	personal_read := [t | some t in personal_processed; not t.access == "write"]
	special_reads := [t | some t in personal_read; t.classification == "special"]
	purposed_reads := [t | some t in personal_read; p in t.purposes]

	writes := (count(writes_to) + count([t | some t in tables; t.access == "write"])) > 0

	# Regions. A missing table region reads as "", never a configured one.
	configured_regions := object.keys(rj)
	table_regions := {object.get(t, "region", "") | some t in tables}
	unknown_regions := table_regions - configured_regions
	write_regions := {object.get(w, "region", "") | some w in writes_to; is_object(w)}

	# Executing in a region is processing there. Non-personal data may be
	# processed anywhere; to keep data where it is or close to the user,
	# execution is limited to these candidates.
	candidates := ((table_regions | write_regions) | {sr}) & configured_regions
	candidate_jurisdictions := {d | some r in candidates; d := rj[r]}

	# The jurisdictions of the personal data whose rows the statement reads
	# or writes (a table of unknown region has none: region.unknown denies
	# it) ...
	processed_jurisdictions := {j | some t in personal_processed; j := rj[t.region]}

	# blocked holds [from, to] when personal data of jurisdiction from may
	# not be processed in, nor sent to, jurisdiction to for the declared
	# purpose: not the same jurisdiction, no adequacy decision, no transfer
	# mechanism for the purpose (as may_transfer says), for every pair of a
	# processed and a candidate jurisdiction; the recipient's is a
	# candidate whenever it is configured. (Policy data is read by ref, not
	# with object.get, which fails on data of the wrong type and would drop
	# the pair: malformed data blocks.)
	a := adequacy
	m := transfers
	blocked := {[j, d] |
		some j in processed_jurisdictions
		some d in candidate_jurisdictions
		j != d
		not a[j][d]
		not m[j][d][p]
	}

	# The statement may execute in the candidate regions whose jurisdiction
	# may process all of its personal data.
	# (rj[r] is defined: the candidates are configured regions.)
	excluded := {d | some [_, d] in blocked}
	execution_regions := {r | some r in candidates; not excluded[rj[r]]}

	# Personal data read for a recipient who may not receive its rows (all
	# of it when the recipient's region is not configured) ...
	recipient := object.get(rj, [sr], null)
	unreceivable := {j | some j in processed_jurisdictions; recipient == null} | {j | some [j, d] in blocked; d == recipient}
	exports := [t | some t in personal_read; unreceivable[rj[t.region]]]

	# ... of which these are an allowed aggregate export: output that
	# carries no raw personal column and only aggregates, not grouped by a
	# personal column (see anonymous_output).
	enabled := aggregate_export_enabled
	aggregate_exports := [t |
		enabled
		some t in exports
		t.output_aggregated == true
		t.pii_in_output in {[], null}
		t.pii_grouped_by in {[], null}
	]
}

# The tables that hold personal data, whatever their access. Only the rules
# about statements that touch personal data at all need this view, after
# their guard.
personal_tables := [t | some t in view.tables; personal(t)]

no_columns := {[], null}

# array_field is obj[key] when it is an array, else [] (absent, null).
array_field(obj, key) := obj[key] if {
	is_array(obj[key])
} else := []

name(t) := t.name if {
	is_string(t.name)
	t.name != ""
} else := "(unnamed table)"

normalize(s) := lower(trim_space(s))

# Classes that are not personal data are public and internal. Anything else,
# including unclassified (""), a missing classification and a value this
# pack does not know, is personal: never public by default. (view applies
# the same test.)
personal(t) if {
	not t.classification == "public"
	not t.classification == "internal"
}

# may_transfer holds when personal data of jurisdiction from may be
# processed in, or sent to, jurisdiction to for purpose: the same
# jurisdiction, an adequacy decision, or a transfer mechanism recorded for
# that destination and purpose. view decides with the same facts, for the
# jurisdictions a statement needs; may_transfer serves the messages, which
# look beyond them.
may_transfer(from, to, _) if from == to

may_transfer(from, to, _) if adequacy[from][to]

may_transfer(from, to, p) if transfers[from][to][p]

# list renders a set or array of strings for messages.
list(s) := x if {
	count(s) > 0
	x := concat(", ", sort(s))
} else := "none"

purpose_text := x if {
	purpose != ""
	x := sprintf("for purpose %q", [purpose])
} else := "without a declared purpose"
