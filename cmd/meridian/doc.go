// Meridian is the federated query planner and data-lake governance service:
// one pure-Go binary whose subcommands start the proxy and inspect what it
// would do.
//
// Usage:
//
//	meridian <command> [flags] [arguments]
//
// The commands today:
//
//	plan     show how a SQL statement is analysed, without running it
//	catalog  list, describe and tag the lake's tables
//	policy   push, test, dry-run, activate and roll back policy versions; show decisions
//	demo     create the demo lake (demo init)
//	version  print the version
//	help     show help for a command
//
// This package is wiring only (ARCHITECTURE.md, "Layout"): it reads flags,
// environment and files, constructs the packages below it and runs them. It
// is the only place that reads MERIDIAN_* variables. Being a command, it is
// imported by nothing; it may import any package of the module.
package main
