# Fixtures shared by the tests: the demo lake's regions, tables and users,
# and a request builder. Tests live in package meridian_test so that nothing
# they define lands under data.meridian.
package meridian_test

import data.meridian

regions := {
	"eu": {"jurisdiction": "EEA", "healthy": true},
	"us": {"jurisdiction": "US", "healthy": true},
	"apac": {"jurisdiction": "JP", "healthy": true},
}

eu_analyst := {
	"user": "alice",
	"groups": ["analysts"],
	"region": "eu",
	"purposes": ["analytics"],
	"authenticated": true,
}

us_analyst := object.union(eu_analyst, {"user": "bob", "region": "us"})

apac_analyst := object.union(eu_analyst, {"user": "chen", "region": "apac"})

us_support := object.union(eu_analyst, {"user": "dana", "region": "us", "groups": ["support"], "purposes": ["support"]})

# SELECT COUNT(*) FROM eu_users WHERE country = 'France'
eu_users_count := {
	"name": "iceberg.eu.eu_users",
	"access": "read",
	"region": "eu",
	"classification": "personal",
	"purposes": ["analytics", "support"],
	"columns_read": ["country"],
	"pii_columns_read": [],
	"pii_in_output": [],
	"output_aggregated": true,
	"pii_grouped_by": [],
	"retention_days": 365,
	"unreadable_partitions": 0,
}

# SELECT * FROM eu_users
eu_users_star := object.union(eu_users_count, {
	"columns_read": ["id", "name", "email", "country"],
	"pii_columns_read": ["email", "name"],
	"pii_in_output": ["email", "name"],
	"output_aggregated": false,
})

us_customers_star := object.union(eu_users_star, {"name": "iceberg.us.customers", "region": "us"})

apac_members_star := object.union(eu_users_star, {"name": "iceberg.apac.members", "region": "apac"})

us_products := {
	"name": "iceberg.us.products",
	"access": "read",
	"region": "us",
	"classification": "public",
	"purposes": [],
	"columns_read": ["sku", "price"],
	"pii_columns_read": [],
	"pii_in_output": [],
	"output_aggregated": false,
	"pii_grouped_by": [],
}

eu_rates := object.union(us_products, {"name": "iceberg.eu.rates", "region": "eu", "classification": "internal"})

guest_health := object.union(eu_users_star, {
	"name": "iceberg.eu.guest_health",
	"classification": "special",
	"purposes": ["support"],
})

request(subject, purpose, tables) := {
	"version": 1,
	"subject": subject,
	"request": {"purpose": purpose, "source": "trino-cli", "client_tags": [], "query_id": "20250101_000000_00000_test"},
	"statement": {"kind": "select", "analysis": "ast", "fingerprint": "sha256:test", "writes_to": [], "opaque": []},
	"tables": tables,
	"regions": regions,
}

decide(inp) := d if {
	d := meridian.decision with input as inp
}

rule_ids(d) := sort({v.rule | some v in d.violations})

# messages(d, rule) are the messages of rule's violations, joined.
messages(d, rule) := concat("\n", [v.message | some v in d.violations; v.rule == rule])

allowed_in(d, rs) if {
	d.allow == true
	d.regions == rs
	d.violations == []
}

denied_by(d, rules) if {
	d.allow == false
	rule_ids(d) == rules
}

# replace sets the top-level fields of patch in obj; unlike object.union it
# does not merge nested objects.
replace(obj, patch) := object.union(object.remove(obj, object.keys(patch)), patch)
