// Package rego is the shipped policy pack: the default GDPR policy Meridian
// enforces (GOVERNANCE.md), written in Rego v1, with its opa-test suite and
// the policy data a compliance team edits without touching rules. It holds
// no Go logic: embed.go exposes the files as FS, and the policy package
// compiles them with OPA.
//
// Layout of FS (paths relative to this directory):
//
//   - *.rego, except *_test.rego: the rules, all in package meridian. The
//     decision is data.meridian.decision (assembled in meridian.rego, whose
//     header documents the input and output documents and every rule id).
//   - *_test.rego: tests in package meridian_test, run by `opa test rego/`
//     and by OPA's v1/tester from go test. They never define anything under
//     data.meridian, so an engine may load them with the rules or skip them.
//   - data/*.json: policy data. Each file is one JSON object whose top-level
//     key names the fact (adequacy, transfers, grants, settings). Like
//     `opa test rego/`, an engine must load FS with OPA's loader rooted at
//     "." (loader.NewFileLoader().WithFS(FS).All([]string{"."})), which
//     merges a file in directory data/ at data.data: the rules read
//     data.data.adequacy, data.data.transfers, data.data.grants and
//     data.data.settings. Loaded any other way the facts are missing and the
//     rules fail closed (no transfer beyond the data's own jurisdiction, no
//     special-category grant, no aggregate export); the tests assert the
//     facts are where the rules look.
//
// The policy package imports this package as policies, beside OPA's rego
// package; nothing else imports it, and it imports nothing.
package rego
