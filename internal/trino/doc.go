// Package trino holds the Trino client protocol's wire types shared by the
// proxy (server), the cluster client and the local engine: QueryResults and
// its parts, the standard error codes clients understand, type signatures and
// the X-Trino-* header names. See ../shared/PROTOCOL.md.
//
// It imports nothing from Meridian and may be imported by any package.
package trino
