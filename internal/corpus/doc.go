// Package corpus finds and reads the shared SQL corpus (../shared/corpus
// beside the repository: TPC-H, TPC-DS and Trino documentation statements)
// for tests and benchmarks.
//
// It sits outside the statement path. Only tests and benchmarks import it.
package corpus
