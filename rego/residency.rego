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

# execution_regions: where the statement may execute. Only the candidate
# regions are checked against the jurisdictions of the personal data: there
# are fewer of them than configured regions.
execution_regions := {r |
	some r in candidate_regions
	every j in processed_jurisdictions {
		may_transfer(j, region_jurisdiction[r], purpose)
	}
} if {
	count(processed_jurisdictions) > 0
} else := candidate_regions

candidate_regions := ((table_region_names | write_region_names) | {subject_region}) & configured_regions

write_region_names := {object.get(w, "region", "") | some w in writes_to; is_object(w)}

# The jurisdictions of the personal data whose rows the statement reads or
# writes.
processed_jurisdictions := {j | some t in personal_processed; j := region_jurisdiction[t.region]}

# processing_regions(J): the configured regions where personal data of
# jurisdiction J may be processed (for messages).
processing_regions(j) := {r | some r, d in region_jurisdiction; may_transfer(j, d, purpose)}

# gdpr.residency: personal data of several jurisdictions with no region in
# common.
violation contains {"rule": "gdpr.residency", "table": name(t), "message": msg} if {
	count(execution_regions) == 0
	some t in personal_processed
	j := region_jurisdiction[t.region]
	others := {r | some j2 in processed_jurisdictions; j2 != j; some r in processing_regions(j2)}
	msg := sprintf(
		"personal data in %s (residency %s, jurisdiction %s) may be processed %s only in %s, but the statement also processes personal data that may be processed only in %s, so no region may run it: split the statement so that each part processes personal data of one jurisdiction",
		[name(t), t.region, j, purpose_text, list(processing_regions(j)), list(others)],
	)
}

# gdpr.transfer: the recipient's jurisdiction may not receive this table's
# personal output, and the output is not an allowed aggregate export.
violation contains {"rule": "gdpr.transfer", "table": name(t), "message": msg} if {
	some t in blocked_exports
	j := region_jurisdiction[t.region]
	msg := sprintf(
		"personal data of %s residency in %s (jurisdiction %s) may not be returned to %s %s: no adequacy decision or transfer mechanism allows it%s, and %s. To pass, %s, or run from a region in %s",
		[t.region, name(t), j, recipient_text, purpose_text, mechanism_hint(j), output_text(t), remedy_text(t), list(processing_regions(j))],
	)
}

# The jurisdictions of the statement's personal data whose rows the
# recipient may not receive.
unreceivable := {j | some j in processed_jurisdictions; not may_receive(j)}

# may_receive is a function so that an undefined recipient_jurisdiction (an
# unconfigured recipient) makes it undefined, and `not` true.
may_receive(j) if may_transfer(j, recipient_jurisdiction, purpose)

# Personal data read for a recipient who may not receive its rows.
exports := [t |
	some t in personal_read
	unreceivable[region_jurisdiction[t.region]]
] if {
	count(unreceivable) > 0
} else := []

# ... of which those that are not an allowed aggregate export.
blocked_exports := [t | some t in exports; not aggregate_export_allowed(t)]

aggregate_exports := count(exports) - count(blocked_exports) if {
	count(unreceivable) > 0
} else := 0

recipient_jurisdiction := region_jurisdiction[subject_region]

recipient_text := sprintf("a recipient in %s (jurisdiction %s)", [subject_region, recipient_jurisdiction]) if {
	recipient_jurisdiction
} else := sprintf("a recipient in %q, which is not a configured region,", [subject_region]) if {
	subject_region != ""
} else := "a recipient of unknown region"

# mechanism_hint names the purposes that a mechanism towards the recipient's
# jurisdiction does cover, if any.
mechanism_hint(j) := sprintf(" (the mechanisms recorded for %s cover only the purposes %s)", [recipient_jurisdiction, list(covered)]) if {
	covered := {p | some p, _ in data.data.transfers[j][recipient_jurisdiction]}
	count(covered) > 0
} else := ""

# Aggregate export: output that carries no raw personal column and only
# aggregates, not grouped by a personal column, is anonymous and may go to a
# recipient outside the jurisdiction when data.data.settings enables it. Small
# groups could re-identify people, so the decision then carries the
# obligation min_group_size = k for the engine to enforce.
aggregate_export_allowed(t) if {
	aggregate_export_enabled
	anonymous_output(t)
}

anonymous_output(t) if {
	t.output_aggregated == true
	object.get(t, "pii_in_output", []) in no_columns
	object.get(t, "pii_grouped_by", []) in no_columns
}

no_columns := {[], null}

# Enabled only with a usable k: missing settings mean no aggregate export.
aggregate_export_enabled if {
	data.data.settings.aggregate_export.enabled == true
	min_group_size >= 1
}

min_group_size := k if {
	k := data.data.settings.aggregate_export.min_group_size
	is_number(k)
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
	count(table_region_names - configured_regions) > 0
	touches_personal
	some t in tables
	not region_jurisdiction[object.get(t, "region", "")]
	msg := unknown_region_text(t)
}

unknown_region_text(t) := sprintf(
	"%s holds personal data and its region (%v) is not a configured region (%s), so it is processed nowhere: set meridian.residency on the table or map its location's bucket to a region",
	[name(t), object.get(t, "region", null), list(configured_regions)],
) if {
	personal(t)
} else := sprintf(
	"%s has no known region (%v) and the statement also touches personal data; a table of unknown region is allowed only when every table is non-personal: set meridian.residency on %s, or query it in a statement without personal data",
	[name(t), object.get(t, "region", null), name(t)],
)

region_none_remedy := sprintf("run from a region in %s", [list(configured_regions)]) if {
	count(configured_regions) > 0
} else := "no region with a jurisdiction is configured: configure regions in Meridian"

# region.none: nothing else explains why no region qualifies (no table in a
# configured region and the subject's region is not configured either).
region_none contains {"rule": "region.none", "table": "", "message": msg} if {
	count(execution_regions) == 0
	count(violation) == 0
	msg := sprintf(
		"no configured region may run this statement: none of its tables is in a configured region and the user's region (%v) is not one; %s",
		[object.get(subject, "region", null), region_none_remedy],
	)
}
