# Special categories (GDPR Art. 9: health, biometrics, religion, …) need an
# explicit extra basis: the DPO grants a table to groups in data/grants.json.
package meridian

# gdpr.special_category: none of the user's groups holds a grant.
violation contains {"rule": "gdpr.special_category", "table": name(t), "message": msg} if {
	some t in view.special_reads
	not special_granted(t)
	msg := sprintf(
		"%s holds special-category data (GDPR Art. 9) and none of the groups of user %q (%s) holds a grant for it: %s",
		[name(t), user, list({g | some g in subject_groups; is_string(g)}), grant_remedy(t)],
	)
}

special_granted(t) if {
	some g in subject_groups
	some granted in data.data.grants[t.name]
	g == granted
}

grant_remedy(t) := sprintf("ask the DPO for a grant to group %s, or to add you to it", [list(data.data.grants[t.name])]) if {
	count(data.data.grants[t.name]) > 0
} else := sprintf("ask the DPO for a grant of %s to one of your groups", [name(t)])
