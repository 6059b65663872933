// Package demo builds the demo lake Meridian runs and is tested on: a
// hospitality company's guests, bookings and accessibility needs, held in
// three regions (eu, us, apac), a global listings table, and the eight TPC-H
// tables, all Iceberg tables in the Trino catalog "iceberg" with the
// governance properties of GOVERNANCE.md (residency, classification,
// purposes, retention, column tags). Personal tables live in their region's
// warehouse (a local directory or the bucket lake-<region>); listings and
// TPC-H live in the us warehouse.
//
// The data is synthetic and deterministic: the same Config (sizes and Seed)
// always yields the same rows, whatever the machine, because every table
// draws from its own fixed-seed PCG stream and nothing reads the clock.
// Names and e-mail addresses come from small word lists and are obviously
// fake (@example.org). Bookings span 2024 and 2025 day by day, so lifecycle
// has old partitions to expire and tier.
//
// The package sits outside the statement path: it writes tables through the
// Iceberg catalog that package catalog opens, and invalidates them in
// catalog's cache. cmd/meridian (meridian demo init) and tests may import it;
// server, planner, policy and the engine must not.
package demo
