# Purpose limitation (GDPR Art. 5(1)(b)): personal data is read only for a
# declared purpose that both the table and the user are permitted.
package meridian

# gdpr.purpose: no purpose declared.
violation contains {"rule": "gdpr.purpose", "table": name(t), "message": msg} if {
	purpose == ""
	some t in view.personal_read
	example := example_purpose(t)
	msg := sprintf(
		"%s holds personal data, which is read only for a declared purpose (the table's purposes: %s), and the request declares none: declare one with SET SESSION purpose = '%s' or the client tag purpose=%s",
		[name(t), list(table_purposes(t)), example, example],
	)
}

# gdpr.purpose: the table was not collected for the declared purpose.
violation contains {"rule": "gdpr.purpose", "table": name(t), "message": msg} if {
	purpose != ""
	count(view.purposed_reads) < count(view.personal_read)
	some t in view.personal_read
	not purpose in object.get(t, "purposes", [])
	msg := not_for_purpose_text(t)
}

# gdpr.purpose: the user may not process personal data for the purpose.
violation contains {"rule": "gdpr.purpose", "table": name(t), "message": msg} if {
	purpose != ""
	not purpose in subject_purposes
	some t in view.personal_read
	msg := sprintf(
		"user %q %s, not for %q, so may not read %s for it: %s",
		[user, permitted_text, purpose, name(t), subject_remedy(t)],
	)
}

# The catalog stores purposes lower-case (catalog.parseList); the declared
# purpose is lower-cased above. Messages list them as they are.
table_purposes(t) := {p | some p in array_field(t, "purposes"); is_string(p)}

subject_purpose_set := {p | some p in subject_purposes; is_string(p)}

permitted_text := sprintf("may process personal data only for the purposes %s", [list(subject_purpose_set)]) if {
	count(subject_purpose_set) > 0
} else := "may not process personal data for any purpose"

subject_remedy(t) := sprintf("declare a permitted purpose, e.g. SET SESSION purpose = '%s' or the client tag purpose=%s, or ask the DPO to permit %q", [p, p, purpose]) if {
	count(subject_purpose_set) > 0
	p := example_purpose(t)
} else := sprintf("ask the DPO to permit %q", [purpose])

# example_purpose suggests a purpose the table and the user share, else one
# of the table's.
example_purpose(t) := min(table_purposes(t) & subject_purpose_set) if {
	count(table_purposes(t) & subject_purpose_set) > 0
} else := min(table_purposes(t)) if {
	count(table_purposes(t)) > 0
} else := "<purpose>"

not_for_purpose_text(t) := sprintf(
	"%s declares no purposes, so it may not be processed for %q: ask its owner to set meridian.purposes (and meridian.classification, since unclassified data counts as personal)",
	[name(t), purpose],
) if {
	count(table_purposes(t)) == 0
} else := sprintf(
	"%s may be processed only for the purposes %s, not for %q: declare one of them, e.g. SET SESSION purpose = '%s' or the client tag purpose=%s",
	[name(t), list(table_purposes(t)), purpose, example_purpose(t), example_purpose(t)],
)
