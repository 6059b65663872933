# Residency and transfer: where a statement may execute, and whether its
# output may reach the recipient (the subject's region).
#
# Executing in a region is processing there, so for personal data of
# jurisdiction J a region qualifies when its jurisdiction is J, is adequate
# for J, or has a transfer mechanism from J for the declared purpose. The
# statement may execute in the intersection over all its personal data.
# Non-personal data may be processed anywhere; to keep data where it is or
# close to the user, execution is limited to the regions of the statement's
# tables and the subject's region.
package meridian

# Where the statement may execute (view.execution_regions), which
# jurisdictions may receive its output, and which of its exports are
# anonymous aggregates are computed in view (meridian.rego); the rules here
# explain a deny.

# processing_regions(J): the configured regions where personal data of
# jurisdiction J may be processed (for messages).
processing_regions(j) := {r | some r, d in region_jurisdiction; may_transfer(j, d, purpose)}

# gdpr.residency: personal data of several jurisdictions with no region in
# common.
violation contains {"rule": "gdpr.residency", "table": name(t), "message": msg} if {
	count(view.execution_regions) == 0
	some t in view.personal_processed
	j := region_jurisdiction[t.region]
	others := {r | some j2 in view.processed_jurisdictions; j2 != j; some r in processing_regions(j2)}
	msg := sprintf(
		"personal data in %s (residency %s, jurisdiction %s) may be processed %s only in %s, but the statement also processes personal data that may be processed only in %s, so no region may run it: split the statement so that each part processes personal data of one jurisdiction",
		[name(t), t.region, j, purpose_text, list(processing_regions(j)), list(others)],
	)
}

# gdpr.transfer: the recipient's jurisdiction may not receive this table's
# personal output, and the output is not an allowed aggregate export.
violation contains {"rule": "gdpr.transfer", "table": name(t), "message": msg} if {
	view.aggregate_exports < count(view.exports)
	some t in view.exports
	not aggregate_export_allowed(t)
	j := region_jurisdiction[t.region]
	msg := sprintf(
		"personal data of %s residency in %s (jurisdiction %s) may not be returned to %s %s: no adequacy decision or transfer mechanism allows it%s, and %s. To pass, %s, or run from a region in %s",
		[t.region, name(t), j, recipient_text, purpose_text, mechanism_hint(j), output_text(t), remedy_text(t), list(processing_regions(j))],
	)
}

# The recipient's jurisdiction, for messages; undefined when the recipient's
# region is not configured.
recipient_jurisdiction := region_jurisdiction[subject_region]

recipient_text := sprintf("a recipient in %s (jurisdiction %s)", [subject_region, recipient_jurisdiction]) if {
	recipient_jurisdiction
} else := sprintf("a recipient in %q, which is not a configured region,", [subject_region]) if {
	subject_region != ""
} else := "a recipient of unknown region"

# mechanism_hint names the purposes that a mechanism towards the recipient's
# jurisdiction does cover, if any.
mechanism_hint(j) := sprintf(" (the mechanisms recorded for %s cover only the purposes %s)", [recipient_jurisdiction, list(covered)]) if {
	covered := {p | some p, _ in transfers[j][recipient_jurisdiction]}
	count(covered) > 0
} else := ""

# Aggregate export: output that carries no raw personal column and only
# aggregates, not grouped by a personal column, is anonymous and may go to a
# recipient outside the jurisdiction when data.data.settings enables it. Small
# groups could re-identify people, so the decision then carries the
# obligation min_group_size = k for the engine to enforce. (view counts the
# allowed aggregate exports with the same test; these functions serve the
# messages.)
aggregate_export_allowed(t) if {
	aggregate_export_enabled
	anonymous_output(t)
}

anonymous_output(t) if {
	t.output_aggregated == true
	t.pii_in_output in no_columns
	t.pii_grouped_by in no_columns
}

output_text(t) := sprintf("its output is grouped by personal column(s) %s, so its aggregates describe individuals", [list(array_field(t, "pii_grouped_by"))]) if {
	count(array_field(t, "pii_grouped_by")) > 0
} else := sprintf("its output returns personal column(s) %s", [list(array_field(t, "pii_in_output"))]) if {
	count(array_field(t, "pii_in_output")) > 0
} else := "its output returns rows of the table, not only aggregates" if {
	not object.get(t, "output_aggregated", false) == true
} else := "aggregate export is disabled in policy data (data/settings.json: aggregate_export)"

remedy_text(t) := "return only aggregates, not grouped by a personal column" if {
	not anonymous_output(t)
	aggregate_export_enabled
} else := "ask the compliance team to enable aggregate export" if {
	anonymous_output(t)
} else := "ask the compliance team for a transfer mechanism for this purpose"

# region.unknown: a table of unknown region is allowed only when every table
# of the statement is non-personal; personal data of unknown region is
# processed nowhere.
violation contains {"rule": "region.unknown", "table": name(t), "message": msg} if {
	count(view.unknown_regions) > 0
	count(personal_tables) > 0
	some t in view.tables
	not region_jurisdiction[object.get(t, "region", "")]
	msg := unknown_region_text(t)
}

unknown_region_text(t) := sprintf(
	"%s holds personal data and its region (%v) is not a configured region (%s), so it is processed nowhere: set meridian.residency on the table or map its location's bucket to a region",
	[name(t), object.get(t, "region", null), list(view.configured_regions)],
) if {
	personal(t)
} else := sprintf(
	"%s has no known region (%v) and the statement also touches personal data; a table of unknown region is allowed only when every table is non-personal: set meridian.residency on %s, or query it in a statement without personal data",
	[name(t), object.get(t, "region", null), name(t)],
)

region_none_remedy := sprintf("run from a region in %s", [list(view.configured_regions)]) if {
	count(view.configured_regions) > 0
} else := "no region with a jurisdiction is configured: configure regions in Meridian"

# region.none: nothing else explains why no region qualifies (no table in a
# configured region and the subject's region is not configured either).
region_none contains {"rule": "region.none", "table": "", "message": msg} if {
	count(view.execution_regions) == 0
	count(violation) == 0
	msg := sprintf(
		"no configured region may run this statement: none of its tables is in a configured region and the user's region (%v) is not one; %s",
		[object.get(subject, "region", null), region_none_remedy],
	)
}
