package meridian_test

test_no_purpose_for_personal_data_is_denied if {
	d := decide(request(eu_analyst, "", [eu_users_count]))
	denied_by(d, ["gdpr.purpose"])
	m := messages(d, "gdpr.purpose")
	contains(m, "iceberg.eu.eu_users")
	contains(m, "SET SESSION purpose = 'analytics'")
	contains(m, "client tag purpose=analytics")
}

test_no_purpose_for_non_personal_data_is_allowed if {
	allowed_in(decide(request(eu_analyst, "", [eu_rates])), ["eu"])
}

test_purpose_from_client_tag if {
	inp := replace(request(eu_analyst, "", [eu_users_count]), {"request": {"purpose": "", "client_tags": ["team=growth", "purpose=analytics"]}})
	allowed_in(decide(inp), ["eu"])
}

test_session_purpose_wins_over_client_tag if {
	inp := replace(request(eu_analyst, "marketing", [eu_users_count]), {"request": {"purpose": "marketing", "client_tags": ["purpose=analytics"]}})
	denied_by(decide(inp), ["gdpr.purpose"])
}

test_conflicting_client_tags_declare_no_purpose if {
	inp := replace(request(eu_analyst, "", [eu_users_count]), {"request": {"client_tags": ["purpose=analytics", "purpose=support"]}})
	d := decide(inp)
	denied_by(d, ["gdpr.purpose"])
	contains(messages(d, "gdpr.purpose"), "declares none")
}

test_purposes_compare_lower_case if {
	allowed_in(decide(request(eu_analyst, " Analytics ", [eu_users_count])), ["eu"])
}

test_purpose_not_among_the_tables_purposes_is_denied if {
	subject := object.union(eu_analyst, {"purposes": ["analytics", "marketing"]})
	d := decide(request(subject, "marketing", [eu_users_count]))
	denied_by(d, ["gdpr.purpose"])
	m := messages(d, "gdpr.purpose")
	contains(m, "only for the purposes analytics, support, not for \"marketing\"")
	contains(m, "SET SESSION purpose = 'analytics'")
}

test_purpose_not_permitted_to_the_user_is_denied if {
	d := decide(request(eu_analyst, "support", [eu_users_count]))
	denied_by(d, ["gdpr.purpose"])
	m := messages(d, "gdpr.purpose")
	contains(m, "user \"alice\" may process personal data only for the purposes analytics, not for \"support\"")
	contains(m, "ask the DPO to permit \"support\"")
	contains(m, "SET SESSION purpose = 'analytics'")
}

test_purpose_is_checked_per_personal_table if {
	subject := object.union(eu_analyst, {"purposes": ["analytics", "billing"]})
	billing := object.union(eu_users_count, {"name": "iceberg.eu.invoices", "purposes": ["billing"]})
	d := decide(request(subject, "billing", [eu_users_count, billing]))
	denied_by(d, ["gdpr.purpose"])
	[v.table | some v in d.violations] == ["iceberg.eu.eu_users"]
}

test_table_without_purposes_says_so if {
	t := object.union(eu_users_count, {"classification": "", "purposes": []})
	d := decide(request(eu_analyst, "analytics", [t]))
	denied_by(d, ["gdpr.purpose"])
	contains(messages(d, "gdpr.purpose"), "iceberg.eu.eu_users declares no purposes, so it may not be processed for \"analytics\": ask its owner to set meridian.purposes")
}

test_no_purpose_example_falls_back_to_the_tables_purposes if {
	subject := object.union(eu_analyst, {"purposes": []})
	d := decide(request(subject, "", [guest_health])) with data.data.grants as {"iceberg.eu.guest_health": ["analysts"]}
	contains(messages(d, "gdpr.purpose"), "SET SESSION purpose = 'support'")
	t := object.union(eu_users_count, {"purposes": null})
	contains(messages(decide(request(subject, "", [t])), "gdpr.purpose"), "SET SESSION purpose = '<purpose>'")
}

test_writing_personal_tables_needs_no_purpose if {
	target := object.union(eu_users_count, {"access": "write"})
	inp := replace(request(eu_analyst, "", [target, eu_rates]), {"statement": {"kind": "insert", "analysis": "ast", "writes_to": [{"table": "iceberg.eu.eu_users", "region": "eu"}]}})
	allowed_in(decide(inp), ["eu"])
}

test_user_without_purposes_is_told_to_ask_the_dpo if {
	subject := object.remove(eu_analyst, ["purposes"])
	d := decide(request(subject, "analytics", [eu_users_count]))
	denied_by(d, ["gdpr.purpose"])
	contains(messages(d, "gdpr.purpose"), "user \"alice\" may not process personal data for any purpose, not for \"analytics\", so may not read iceberg.eu.eu_users for it: ask the DPO to permit \"analytics\"")
}
