package meridian_test

support_agent := object.union(eu_analyst, {"user": "erin", "groups": ["support", "dpo-approved-support"], "purposes": ["support"]})

test_special_category_with_a_grant_is_allowed if {
	allowed_in(decide(request(support_agent, "support", [guest_health])), ["eu"])
}

test_special_category_without_a_grant_is_denied if {
	subject := object.union(support_agent, {"groups": ["support"]})
	d := decide(request(subject, "support", [guest_health]))
	denied_by(d, ["gdpr.special_category"])
	m := messages(d, "gdpr.special_category")
	contains(m, "iceberg.eu.guest_health")
	contains(m, "ask the DPO for a grant to group dpo-approved-support")
}

test_special_category_without_any_grant_in_data_is_denied if {
	t := object.union(guest_health, {"name": "iceberg.eu.biometrics"})
	d := decide(request(support_agent, "support", [t]))
	denied_by(d, ["gdpr.special_category"])
	contains(messages(d, "gdpr.special_category"), "ask the DPO for a grant of iceberg.eu.biometrics to one of your groups")
}

test_special_category_grant_comes_from_data if {
	subject := object.union(support_agent, {"groups": ["nurses"]})
	d := decide(request(subject, "support", [guest_health])) with data.data.grants as {"iceberg.eu.guest_health": ["nurses"]}
	allowed_in(d, ["eu"])
}

test_special_category_without_groups_is_denied if {
	subject := object.remove(support_agent, ["groups"])
	denied_by(decide(request(subject, "support", [guest_health])), ["gdpr.special_category"])
}

test_special_category_is_still_personal_data if {
	# A grant is not a transfer basis.
	subject := object.union(support_agent, {"region": "us", "purposes": ["analytics"]})
	d := decide(request(subject, "analytics", [guest_health]))
	denied_by(d, ["gdpr.purpose", "gdpr.transfer"])
}

test_special_category_metadata_needs_no_grant if {
	t := object.union(guest_health, {"access": "meta"})
	allowed_in(decide(request(eu_analyst, "", [t])), ["eu"])
}
