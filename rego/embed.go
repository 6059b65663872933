package rego

import "embed"

// FS holds the policy pack: rules, tests and policy data (see the package
// documentation for how to load it).
//
//go:embed *.rego data/*.json
var FS embed.FS
