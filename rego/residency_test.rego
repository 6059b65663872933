package meridian_test

# Non-personal data runs where the data is or in the user's region.
test_non_personal_runs_where_the_data_or_the_user_is if {
	allowed_in(decide(request(eu_analyst, "", [us_products])), ["eu", "us"])
	allowed_in(decide(request(us_analyst, "", [us_products])), ["us"])
	allowed_in(decide(request(apac_analyst, "", [us_products, eu_rates])), ["apac", "eu", "us"])
}

test_personal_data_is_processed_only_where_its_jurisdiction_allows if {
	# EEA data may be processed in Japan (adequacy), not in the US for analytics.
	d := decide(request(apac_analyst, "analytics", [eu_users_count]))
	allowed_in(d, ["apac", "eu"])
	d2 := decide(request(us_analyst, "analytics", [eu_users_count, us_products]))
	d2.regions == ["eu"]
}

test_transfer_mechanism_opens_processing_and_recipient_for_its_purpose_only if {
	# SCCs cover support to the US: raw rows may go to a US support agent.
	allowed_in(decide(request(us_support, "support", [eu_users_star])), ["eu", "us"])

	# ... not analytics.
	analyst := object.union(us_support, {"purposes": ["analytics", "support"]})
	d := decide(request(analyst, "analytics", [eu_users_star]))
	denied_by(d, ["gdpr.transfer"])
	d.regions == ["eu"]
	contains(messages(d, "gdpr.transfer"), "the mechanisms recorded for US cover only the purposes support")
}

test_personal_data_of_two_jurisdictions_without_common_region_is_denied if {
	d := decide(request(eu_analyst, "analytics", [eu_users_star, us_customers_star]))
	d.allow == false
	d.regions == []
	{v.table | some v in d.violations; v.rule == "gdpr.residency"} == {"iceberg.eu.eu_users", "iceberg.us.customers"}
	contains(messages(d, "gdpr.residency"), "split the statement")
}

test_personal_data_of_two_jurisdictions_with_a_common_region_is_allowed if {
	# EEA -> JP by adequacy, JP -> EEA by the APPI designation.
	allowed_in(decide(request(eu_analyst, "analytics", [eu_users_star, apac_members_star])), ["apac", "eu"])
}

test_recipient_in_the_same_jurisdiction_gets_raw_rows if {
	allowed_in(decide(request(eu_analyst, "analytics", [eu_users_star])), ["eu"])
}

test_recipient_with_adequacy_gets_raw_rows if {
	allowed_in(decide(request(apac_analyst, "analytics", [eu_users_star])), ["apac", "eu"])
}

test_aggregate_export_is_allowed_with_min_group_size if {
	d := decide(request(us_analyst, "analytics", [eu_users_count]))
	d.allow == true
	d.regions == ["eu"]
	d.obligations == {"audit": "full", "min_group_size": 10}
}

test_no_min_group_size_without_an_aggregate_export if {
	decide(request(eu_analyst, "analytics", [eu_users_count])).obligations == {"audit": "full"}
	decide(request(apac_analyst, "analytics", [eu_users_count])).obligations == {"audit": "full"}
}

test_aggregate_export_follows_min_group_size_in_data if {
	d := decide(request(us_analyst, "analytics", [eu_users_count])) with data.data.settings.aggregate_export.min_group_size as 25
	d.obligations.min_group_size == 25
}

test_aggregate_export_disabled_is_denied if {
	d := decide(request(us_analyst, "analytics", [eu_users_count])) with data.data.settings.aggregate_export.enabled as false
	denied_by(d, ["gdpr.transfer"])
	contains(messages(d, "gdpr.transfer"), "aggregate export is disabled")
	contains(messages(d, "gdpr.transfer"), "run from a region in apac, eu")
	d.obligations == {"audit": "full"}
}

test_aggregate_export_without_settings_is_denied if {
	every settings in [{}, {"aggregate_export": {"enabled": true}}, {"aggregate_export": {"enabled": true, "min_group_size": 0}}] {
		d := decide(request(us_analyst, "analytics", [eu_users_count])) with data.data.settings as settings
		denied_by(d, ["gdpr.transfer"])
	}
}

test_aggregate_grouped_by_a_personal_column_is_personal_output if {
	t := object.union(eu_users_count, {"pii_grouped_by": ["email"], "pii_columns_read": ["email"]})
	d := decide(request(us_analyst, "analytics", [t]))
	denied_by(d, ["gdpr.transfer"])
	contains(messages(d, "gdpr.transfer"), "grouped by personal column(s) email")
}

test_aggregate_with_a_raw_personal_column_is_personal_output if {
	t := object.union(eu_users_count, {"pii_in_output": ["email"]})
	denied_by(decide(request(us_analyst, "analytics", [t])), ["gdpr.transfer"])
}

test_raw_non_pii_columns_of_personal_table_are_personal_output if {
	t := object.union(eu_users_count, {"output_aggregated": false})
	d := decide(request(us_analyst, "analytics", [t]))
	denied_by(d, ["gdpr.transfer"])
	contains(messages(d, "gdpr.transfer"), "not only aggregates")
}

test_missing_output_aggregated_is_not_aggregated if {
	t := object.remove(eu_users_count, ["output_aggregated"])
	denied_by(decide(request(us_analyst, "analytics", [t])), ["gdpr.transfer"])
}

test_recipient_in_an_unconfigured_region_gets_no_personal_rows if {
	subject := object.union(eu_analyst, {"region": "mars"})
	d := decide(request(subject, "analytics", [eu_users_star]))
	denied_by(d, ["gdpr.transfer"])
	d.regions == ["eu"]
	contains(messages(d, "gdpr.transfer"), "to a recipient in \"mars\", which is not a configured region, for purpose")

	# Anonymous aggregates may still go there.
	allowed_in(decide(request(subject, "analytics", [eu_users_count])), ["eu"])
}

test_non_personal_data_for_an_unconfigured_recipient_runs_where_the_data_is if {
	subject := object.union(eu_analyst, {"region": "mars"})
	allowed_in(decide(request(subject, "", [us_products])), ["us"])
}

test_personal_data_of_unknown_region_is_denied if {
	t := object.union(eu_users_count, {"region": "unknown"})
	d := decide(request(eu_analyst, "analytics", [t]))
	denied_by(d, ["region.unknown"])
	contains(messages(d, "region.unknown"), "set meridian.residency")
}

test_personal_data_of_missing_or_unconfigured_region_is_denied if {
	every t in [object.remove(eu_users_count, ["region"]), object.union(eu_users_count, {"region": "mars"}), object.union(eu_users_count, {"region": null})] {
		denied_by(decide(request(eu_analyst, "analytics", [t])), ["region.unknown"])
	}
}

test_region_without_jurisdiction_is_unknown if {
	inp := replace(request(eu_analyst, "analytics", [eu_users_count]), {"regions": {"eu": {"healthy": true}, "us": {"jurisdiction": "US"}}})
	d := decide(inp)
	"region.unknown" in rule_ids(d)
	not "eu" in d.regions
}

test_non_personal_data_of_unknown_region_alone_is_allowed if {
	t := object.union(us_products, {"region": "unknown"})
	allowed_in(decide(request(eu_analyst, "", [t, eu_rates])), ["eu"])
}

test_non_personal_data_of_unknown_region_with_personal_data_is_denied if {
	t := object.union(us_products, {"region": "unknown"})
	d := decide(request(eu_analyst, "analytics", [eu_users_count, t]))
	denied_by(d, ["region.unknown"])
	[v.table | some v in d.violations] == ["iceberg.us.products"]
	contains(messages(d, "region.unknown"), "only when every table is non-personal")
}

test_only_configured_regions_are_listed if {
	inp := replace(request(eu_analyst, "analytics", [eu_users_count]), {"regions": {"eu": {"jurisdiction": "EEA", "healthy": false}}})
	allowed_in(decide(inp), ["eu"])
}

test_health_is_not_the_policys_concern if {
	inp := replace(request(us_analyst, "", [us_products]), {"regions": {"us": {"jurisdiction": "US", "healthy": false}}})
	allowed_in(decide(inp), ["us"])
}

test_unclassified_data_is_personal if {
	every class in ["", "secret", "Public", null] {
		t := object.union(eu_users_star, {"classification": class})
		denied_by(decide(request(us_analyst, "analytics", [t])), ["gdpr.transfer"])
	}
}

test_missing_classification_is_personal if {
	t := object.remove(eu_users_star, ["classification"])
	denied_by(decide(request(us_analyst, "analytics", [t])), ["gdpr.transfer"])
}

test_metadata_of_personal_tables_is_not_personal_data if {
	every access in ["meta", "ddl"] {
		t := object.union(eu_users_star, {"access": access})
		allowed_in(decide(request(us_analyst, "", [t])), ["eu", "us"])
	}
}

test_unknown_or_missing_access_counts_as_read if {
	every t in [object.union(eu_users_star, {"access": "sideways"}), object.remove(eu_users_star, ["access"])] {
		denied_by(decide(request(us_analyst, "analytics", [t])), ["gdpr.transfer"])
	}
}

test_tables_without_name_are_still_checked if {
	t := object.remove(eu_users_star, ["name"])
	d := decide(request(us_analyst, "analytics", [t]))
	denied_by(d, ["gdpr.transfer"])
	d.violations[0].table == "(unnamed table)"
}

test_recipient_without_region_gets_no_personal_rows if {
	subject := object.remove(eu_analyst, ["region"])
	d := decide(request(subject, "analytics", [eu_users_star]))
	denied_by(d, ["gdpr.transfer"])
	contains(messages(d, "gdpr.transfer"), "to a recipient of unknown region")
}

test_personal_rows_with_aggregate_export_disabled_need_a_transfer_mechanism if {
	d := decide(request(us_analyst, "analytics", [eu_users_star])) with data.data.settings.aggregate_export.enabled as false
	denied_by(d, ["gdpr.transfer"])
	contains(messages(d, "gdpr.transfer"), "ask the compliance team for a transfer mechanism")
}

test_transfer_violation_names_only_the_tables_that_are_not_aggregate_exports if {
	bookings := object.union(eu_users_star, {"name": "iceberg.eu.bookings"})
	d := decide(request(us_analyst, "analytics", [eu_users_count, bookings]))
	denied_by(d, ["gdpr.transfer"])
	[v.table | some v in d.violations] == ["iceberg.eu.bookings"]
	d.obligations == {"audit": "full", "min_group_size": 10}
}

test_residency_message_lists_the_regions_a_transfer_mechanism_opens if {
	d := decide(request(us_support, "support", [eu_users_star, apac_members_star, us_customers_star]))
	d.allow == false
	d.regions == []
	contains(messages(d, "gdpr.residency"), "personal data in iceberg.eu.eu_users (residency eu, jurisdiction EEA) may be processed for purpose \"support\" only in apac, eu, us")
}
