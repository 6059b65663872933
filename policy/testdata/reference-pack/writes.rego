# Writes and exports: INSERT, CTAS, MERGE, UPDATE and DELETE may not copy
# personal data into a table of another jurisdiction. Aggregates are not
# exempt: a stored result outlives the statement, and nothing enforces a
# minimum group size on it.
package meridian

# Write targets as [table, region], from statement.writes_to and from the
# tables with write access.
write_targets contains [object.get(w, "table", ""), object.get(w, "region", "")] if {
	some w in writes_to
	is_object(w)
}

write_targets contains [name(t), object.get(t, "region", "")] if {
	some t in view.tables
	t.access == "write"
}

# gdpr.cross_border_write: personal data read into a target of another
# jurisdiction (or of unknown region).
violation contains {"rule": "gdpr.cross_border_write", "table": name(t), "message": msg} if {
	view.writes
	some target in write_targets
	some t in view.personal_read
	j := region_jurisdiction[t.region]
	not region_jurisdiction[target[1]] == j
	msg := sprintf(
		"the statement writes into %s (region %v, jurisdiction %s) data read from personal data in %s (residency %s, jurisdiction %s), which may not leave its jurisdiction: write into a table in a region of jurisdiction %s (%s)",
		[target[0], target[1], object.get(region_jurisdiction, target[1], "unknown"), name(t), t.region, j, j, list({r | some r, rj in region_jurisdiction; rj == j})],
	)
}
