# Malformed input and policy data: a missing field or one of the wrong type
# must deny, never allow (meridian.rego, "How the rules stay fast"). Each
# case starts from a request that is allowed and breaks one thing.
package meridian_test

# without removes fields from the first table of inp.
without(inp, fields) := replace(inp, {"tables": array.concat([object.remove(inp.tables[0], fields)], array.slice(inp.tables, 1, count(inp.tables)))})

# with_table_field sets one field of the first table of inp.
with_table_field(inp, field, value) := replace(inp, {"tables": array.concat([object.union(inp.tables[0], {field: value})], array.slice(inp.tables, 1, count(inp.tables)))})

# A public table read without a purpose, and a US user's aggregate of EU
# personal data (an aggregate export).
public_read := request(eu_analyst, "", [us_products])

aggregate_export := request(us_analyst, "analytics", [eu_users_count])

test_the_bases_are_allowed if {
	allowed_in(decide(public_read), ["eu", "us"])
	allowed_in(decide(aggregate_export), ["eu"])
	allowed_in(decide(request(eu_analyst, "analytics", [eu_users_count])), ["eu"])
	allowed_in(decide(request(apac_analyst, "analytics", [eu_users_star])), ["apac", "eu"])
	allowed_in(decide(request(us_analyst, "", [object.union(eu_users_star, {"access": "meta"})])), ["eu", "us"])
}

test_missing_classification_denies if {
	d := decide(without(public_read, ["classification"]))
	d.allow == false
	"gdpr.purpose" in rule_ids(d)
}

test_missing_region_denies if {
	denied_by(decide(without(aggregate_export, ["region"])), ["region.unknown"])

	# ... also of a non-personal table beside personal data.
	inp := request(eu_analyst, "analytics", [object.remove(us_products, ["region"]), eu_users_count])
	denied_by(decide(inp), ["region.unknown"])
}

# `not purpose in t.purposes` would fail, not hold, when purposes is missing.
test_missing_table_purposes_deny if {
	inp := request(eu_analyst, "analytics", [object.remove(eu_users_count, ["purposes"])])
	denied_by(decide(inp), ["gdpr.purpose"])
}

# `not definition_only[t.access]` would fail, not hold, when access is
# missing: metadata access would then cover a read.
test_missing_access_denies if {
	inp := request(us_analyst, "", [object.remove(eu_users_star, ["access"])])
	d := decide(inp)
	d.allow == false
	rule_ids(d) == ["gdpr.purpose", "gdpr.transfer"]
}

test_missing_output_columns_are_not_an_aggregate_export if {
	every field in ["pii_in_output", "pii_grouped_by", "output_aggregated"] {
		d := decide(without(aggregate_export, [field]))
		denied_by(d, ["gdpr.transfer"])
		d.obligations == {"audit": "full"}
	}
}

test_wrong_types_of_table_fields_deny if {
	every c in [
		[public_read, "classification", 5],
		[public_read, "classification", ["public"]],
		[aggregate_export, "region", ["eu"]],
		[aggregate_export, "region", {"eu": true}],
		[aggregate_export, "purposes", "analytics"],
		[aggregate_export, "output_aggregated", "true"],
		[aggregate_export, "pii_in_output", "email"],
		[aggregate_export, "pii_grouped_by", {"email": true}],
	] {
		d := decide(with_table_field(c[0], c[1], c[2]))
		d.allow == false
	}
	meta := request(us_analyst, "", [object.union(eu_users_star, {"access": ["meta"]})])
	decide(meta).allow == false
}

test_wrong_types_of_the_recipient_region_deny if {
	every region in [["eu"], {"eu": true}, 5, null] {
		subject := object.union(eu_analyst, {"region": region})
		denied_by(decide(request(subject, "analytics", [eu_users_star])), ["gdpr.transfer"])
	}
}

test_wrong_types_of_region_jurisdictions_deny if {
	every regions in [{"eu": {"jurisdiction": 5}}, {"eu": "EEA"}, {"eu": {"jurisdiction": ["EEA"]}}] {
		inp := replace(request(eu_analyst, "analytics", [eu_users_count]), {"regions": regions})
		d := decide(inp)
		d.allow == false
		"region.unknown" in rule_ids(d)
	}
}

# Malformed policy data blocks what it would have permitted.
test_malformed_policy_data_denies if {
	inp := request(apac_analyst, "analytics", [eu_users_star])
	every adequacy in ["EEA", ["JP"], {"EEA": "JP"}, {"EEA": {"JP": false}}] {
		d := decide(inp) with data.data.adequacy as adequacy
		denied_by(d, ["gdpr.transfer"])
		d.regions == ["eu"]
	}
	support := request(us_support, "support", [eu_users_star])
	every transfers in ["EEA", {"EEA": ["US"]}, {"EEA": {"US": ["support"]}}] {
		d := decide(support) with data.data.transfers as transfers
		denied_by(d, ["gdpr.transfer"])
	}
	every settings in [{"aggregate_export": "enabled"}, {"aggregate_export": {"enabled": "true", "min_group_size": 10}}, {"aggregate_export": {"enabled": true, "min_group_size": "10"}}] {
		d := decide(aggregate_export) with data.data.settings as settings
		denied_by(d, ["gdpr.transfer"])
	}
}

# The decision is defined, with every field, whatever the input is.
test_any_input_gives_a_whole_deny if {
	every inp in [5, "x", [], [request(eu_analyst, "analytics", [eu_users_count])], null, {"version": 1, "tables": [null, 1, "t"]}] {
		d := decide(inp)
		object.keys(d) == {"allow", "regions", "violations", "obligations"}
		d.allow == false
		count(d.violations) > 0
	}
}

# Without any policy data, nothing but the data's own jurisdiction may
# process or receive it.
test_missing_policy_data_denies if {
	d := decide(request(apac_analyst, "analytics", [eu_users_star])) with data.data as {}
	denied_by(d, ["gdpr.transfer"])
	d.regions == ["eu"]
	d2 := decide(aggregate_export) with data.data as {}
	denied_by(d2, ["gdpr.transfer"])
}
