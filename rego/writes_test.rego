package meridian_test

insert(subject, purpose, target_region, tables) := replace(request(subject, purpose, tables), {"statement": {
	"kind": "insert", "analysis": "ast", "fingerprint": "sha256:test",
	"writes_to": [{"table": sprintf("iceberg.%s.copy", [target_region]), "region": target_region}],
}})

target(region) := object.union(us_products, {"name": sprintf("iceberg.%s.copy", [region]), "region": region, "access": "write", "classification": "internal"})

test_write_of_personal_data_into_another_jurisdiction_is_denied if {
	d := decide(insert(eu_analyst, "analytics", "us", [eu_users_star, target("us")]))
	denied_by(d, ["gdpr.cross_border_write"])
	d.regions == ["eu"]
	m := messages(d, "gdpr.cross_border_write")
	contains(m, "iceberg.us.copy (region us, jurisdiction US)")
	contains(m, "iceberg.eu.eu_users (residency eu, jurisdiction EEA)")
	contains(m, "write into a table in a region of jurisdiction EEA (eu)")
}

test_write_of_personal_data_within_its_jurisdiction_is_allowed if {
	allowed_in(decide(insert(eu_analyst, "analytics", "eu", [eu_users_star, target("eu")])), ["eu"])
}

test_write_of_aggregates_into_another_jurisdiction_is_denied if {
	d := decide(insert(us_analyst, "analytics", "us", [eu_users_count, target("us")]))
	denied_by(d, ["gdpr.cross_border_write"])
}

test_write_into_an_adequate_jurisdiction_is_still_a_cross_border_write if {
	d := decide(insert(eu_analyst, "analytics", "apac", [eu_users_star, target("apac")]))
	denied_by(d, ["gdpr.cross_border_write"])
}

test_write_of_non_personal_data_anywhere_is_allowed if {
	allowed_in(decide(insert(eu_analyst, "", "us", [eu_rates, target("us")])), ["eu", "us"])
}

test_write_target_only_in_writes_to_is_checked if {
	denied_by(decide(insert(eu_analyst, "analytics", "us", [eu_users_star])), ["gdpr.cross_border_write"])
}

test_write_target_only_in_tables_is_checked if {
	inp := replace(request(eu_analyst, "analytics", [eu_users_star, target("us")]), {"statement": {"kind": "insert", "analysis": "ast"}})
	denied_by(decide(inp), ["gdpr.cross_border_write"])
}

test_write_target_of_unknown_region_is_denied if {
	d := decide(insert(eu_analyst, "analytics", "unknown", [eu_users_star, target("unknown")]))
	denied_by(d, ["gdpr.cross_border_write", "region.unknown"])
	contains(messages(d, "gdpr.cross_border_write"), "jurisdiction unknown")
}

test_update_of_a_personal_table_in_place_is_allowed if {
	written := object.union(eu_users_count, {"access": "write"})
	inp := replace(request(eu_analyst, "analytics", [eu_users_count, written]), {"statement": {
		"kind": "update", "analysis": "ast",
		"writes_to": [{"table": "iceberg.eu.eu_users", "region": "eu"}],
	}})
	allowed_in(decide(inp), ["eu"])
}

test_write_into_a_personal_table_is_processed_where_it_may_be if {
	# INSERT INTO iceberg.us.customers SELECT … FROM iceberg.eu.rates, by an EU user.
	written := object.union(us_customers_star, {"access": "write"})
	inp := replace(request(eu_analyst, "", [eu_rates, written]), {"statement": {
		"kind": "insert", "analysis": "ast",
		"writes_to": [{"table": "iceberg.us.customers", "region": "us"}],
	}})
	allowed_in(decide(inp), ["us"])
}
