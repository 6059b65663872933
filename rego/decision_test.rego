package meridian_test

import data.meridian

# The original design's baseline (GOVERNANCE.md): an EU user's
# SELECT COUNT(*) FROM eu_users WHERE country = 'France' runs in the EU.
test_baseline_eu_user_count_runs_in_eu if {
	d := decide(request(eu_analyst, "analytics", [eu_users_count]))
	d == {"allow": true, "regions": ["eu"], "violations": [], "obligations": {"audit": "full"}}
}

# ... and a US user's SELECT * FROM eu_users is denied by a GDPR rule that
# names the table and the regions.
test_baseline_us_user_select_star_denied if {
	d := decide(request(us_analyst, "analytics", [eu_users_star]))
	d.allow == false
	d.regions == ["eu"]
	count(d.violations) == 1
	v := d.violations[0]
	v.rule == "gdpr.transfer"
	v.table == "iceberg.eu.eu_users"
	contains(v.message, "iceberg.eu.eu_users")
	contains(v.message, "eu residency")
	contains(v.message, "to a recipient in us (jurisdiction US)")
	contains(v.message, "run from a region in apac, eu")
	contains(v.message, "return only aggregates")
}

test_decision_has_every_field_for_an_empty_input if {
	d := decide({})
	object.keys(d) == {"allow", "regions", "violations", "obligations"}
	d.allow == false
	d.regions == []
	d.obligations == {"audit": "full"}
	"input.invalid" in rule_ids(d)
}

test_decision_without_input_is_deny if {
	meridian.decision.allow == false
}

test_no_region_means_deny_even_without_other_violations if {
	inp := replace(request(eu_analyst, "analytics", []), {"subject": object.union(eu_analyst, {"region": "mars"})})
	d := decide(inp)
	denied_by(d, ["region.none"])
	d.regions == []
	contains(messages(d, "region.none"), "run from a region in apac, eu, us")
}

test_statement_without_tables_runs_in_the_users_region if {
	allowed_in(decide(request(us_analyst, "", [])), ["us"])
}

test_violations_are_sorted_by_rule_then_table if {
	inp := replace(request(us_analyst, "", [eu_users_star, us_customers_star]), {"version": 2})
	d := decide(inp)
	got := [[v.rule, v.table] | some v in d.violations]
	got == sort(got)
	count(got) > 3
}

test_every_violation_names_rule_table_and_message if {
	inp := replace(
		request(us_analyst, "", [eu_users_star, us_customers_star, guest_health, object.union(us_products, {"region": "unknown"})]),
		{"statement": {"kind": "insert", "analysis": "conservative", "opaque": ["table function query"], "writes_to": [{"table": "iceberg.us.copy", "region": "us"}]}},
	)
	d := decide(inp)
	every v in d.violations {
		is_string(v.rule)
		is_string(v.table)
		count(v.message) > 40
	}
	rule_ids(d) == sort([
		"gdpr.cross_border_write", "gdpr.purpose", "gdpr.residency", "gdpr.special_category",
		"gdpr.transfer", "region.unknown", "statement.conservative", "statement.opaque",
	])
}

# The facts are where the rules look (doc.go): an engine that loads the pack
# another way fails these tests.
test_policy_data_is_loaded_at_data_data if {
	data.data.adequacy.EEA.JP.basis
	data.data.transfers.EEA.US.support.mechanism == "SCC"
	data.data.grants["iceberg.eu.guest_health"] == ["dpo-approved-support"]
	data.data.settings.aggregate_export.enabled == true
	data.data.settings.aggregate_export.min_group_size == 10
}

test_no_region_configured_says_so if {
	d := decide({"version": 1})
	denied_by(d, ["region.none"])
	contains(messages(d, "region.none"), "no region with a jurisdiction is configured")
}
