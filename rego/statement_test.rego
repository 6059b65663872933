package meridian_test

test_version_1_is_read if {
	allowed_in(decide(request(eu_analyst, "analytics", [eu_users_count])), ["eu"])
}

test_other_versions_are_denied if {
	inp := replace(request(eu_analyst, "analytics", [eu_users_count]), {"version": 2})
	d := decide(inp)
	denied_by(d, ["input.invalid"])
	contains(messages(d, "input.invalid"), "version 2")
}

test_missing_version_is_denied if {
	inp := object.remove(request(eu_analyst, "analytics", [eu_users_count]), ["version"])
	denied_by(decide(inp), ["input.invalid"])
}

test_wrong_types_are_denied if {
	every c in [
		[{"tables": {"iceberg.eu.eu_users": eu_users_count}}, "field tables must be an array"],
		[{"tables": "iceberg.eu.eu_users"}, "field tables must be an array"],
		[{"subject": "alice"}, "field subject must be an object"],
		[{"request": "analytics"}, "field request must be an object"],
		[{"statement": "select"}, "field statement must be an object"],
		[{"statement": {"analysis": "ast", "opaque": "EXECUTE IMMEDIATE"}}, "field statement.opaque must be an array"],
		[{"statement": {"analysis": "ast", "writes_to": {"table": "iceberg.us.t", "region": "us"}}}, "field statement.writes_to must be an array"],
		[{"tables": [eu_users_count, "iceberg.eu.eu_users"]}, "field tables.1 must be an object"],
	] {
		d := decide(replace(request(eu_analyst, "analytics", [eu_users_count]), c[0]))
		d.allow == false
		"input.invalid" in rule_ids(d)
		contains(messages(d, "input.invalid"), c[1])
	}
}

# Fields whose wrong type can only deny more are not reported as invalid:
# the rules that read them deny.
test_wrong_types_that_only_deny_more if {
	every c in [
		[{"regions": ["eu"]}, ["region.unknown"]],
		[{"subject": object.union(eu_analyst, {"purposes": "analytics"})}, ["gdpr.purpose"]],
		[{"request": {"purpose": "", "client_tags": "purpose=analytics"}}, ["gdpr.purpose"]],
	] {
		d := decide(replace(request(eu_analyst, "analytics", [eu_users_count]), c[0]))
		denied_by(d, c[1])
	}
	subject := object.union(eu_analyst, {"groups": "dpo-approved-support", "purposes": ["support"]})
	denied_by(decide(request(subject, "support", [guest_health])), ["gdpr.special_category"])
}

# Go marshals nil slices as null: null is empty, not invalid.
test_null_arrays_are_empty if {
	inp := replace(request(eu_analyst, "analytics", [object.union(eu_users_count, {"pii_in_output": null, "pii_grouped_by": null})]), {
		"statement": {"kind": "select", "analysis": "ast", "opaque": null, "writes_to": null},
		"request": {"purpose": "analytics", "client_tags": null},
	})
	allowed_in(decide(inp), ["eu"])
}

test_null_tables_is_a_statement_without_tables if {
	inp := replace(request(eu_analyst, "", []), {"tables": null})
	allowed_in(decide(inp), ["eu"])
}

test_opaque_statement_is_denied if {
	inp := replace(request(eu_analyst, "analytics", []), {"statement": {
		"kind": "execute_immediate", "analysis": "ast",
		"opaque": ["EXECUTE IMMEDIATE of a dynamic string"],
	}})
	d := decide(inp)
	denied_by(d, ["statement.opaque"])
	d.violations[0].table == ""
	contains(d.violations[0].message, "EXECUTE IMMEDIATE of a dynamic string")
}

test_opaque_reasons_each_give_a_violation if {
	inp := replace(request(eu_analyst, "analytics", [eu_rates]), {"statement": {
		"kind": "select", "analysis": "ast",
		"opaque": ["table function system.query", "EXECUTE of an unknown prepared statement"],
	}})
	d := decide(inp)
	count([v | some v in d.violations; v.rule == "statement.opaque"]) == 2
}

test_empty_opaque_is_not_opaque if {
	inp := replace(request(eu_analyst, "analytics", [eu_users_count]), {"statement": {"kind": "select", "analysis": "ast", "opaque": []}})
	allowed_in(decide(inp), ["eu"])
}

test_conservative_analysis_of_personal_data_is_denied if {
	inp := replace(request(eu_analyst, "analytics", [eu_users_star, eu_rates]), {"statement": {"kind": "unknown", "analysis": "conservative"}})
	d := decide(inp)
	denied_by(d, ["statement.conservative"])
	[v.table | some v in d.violations] == ["iceberg.eu.eu_users"]
	contains(messages(d, "statement.conservative"), "rewrite the statement")
}

test_conservative_analysis_of_non_personal_data_is_allowed if {
	inp := replace(request(eu_analyst, "", [eu_rates, us_products]), {"statement": {"kind": "unknown", "analysis": "conservative"}})
	allowed_in(decide(inp), ["eu", "us"])
}

test_missing_or_unknown_analysis_counts_as_conservative if {
	every st in [{"kind": "select"}, {"kind": "select", "analysis": "partial"}, {"kind": "select", "analysis": null}] {
		inp := replace(request(eu_analyst, "analytics", [eu_users_count]), {"statement": st})
		denied_by(decide(inp), ["statement.conservative"])
	}
}

test_conservative_covers_personal_tables_of_any_access if {
	inp := replace(request(eu_analyst, "analytics", [object.union(eu_users_count, {"access": "meta"})]), {"statement": {"kind": "unknown", "analysis": "conservative"}})
	denied_by(decide(inp), ["statement.conservative"])
}
