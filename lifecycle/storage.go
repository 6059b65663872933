package lifecycle

import (
	"fmt"
	"time"
)

// StorageClass is an S3 storage class as the API spells it.
type StorageClass string

// The storage classes the cost model knows (LIFECYCLE.md, "Storage classes").
const (
	Standard           StorageClass = "STANDARD"
	StandardIA         StorageClass = "STANDARD_IA"
	OneZoneIA          StorageClass = "ONEZONE_IA"
	IntelligentTiering StorageClass = "INTELLIGENT_TIERING"
	GlacierIR          StorageClass = "GLACIER_IR"
	Glacier            StorageClass = "GLACIER" // Glacier Flexible Retrieval
	DeepArchive        StorageClass = "DEEP_ARCHIVE"
)

// Classes lists the known classes from warmest to coldest; reports and
// charts use this order.
var Classes = []StorageClass{Standard, IntelligentTiering, StandardIA, OneZoneIA, GlacierIR, Glacier, DeepArchive}

const (
	// minBillableSize is what S3 bills for a smaller object in IA, One
	// Zone-IA and Glacier IR; Intelligent-Tiering does not monitor (and keeps
	// in its frequent tier) objects under this size.
	minBillableSize = 128 << 10
	// archiveStandardOverhead and archiveClassOverhead are the 40 KB S3 adds
	// to each GLACIER or DEEP_ARCHIVE object for its index and metadata: 8 KB
	// billed at the STANDARD price and 32 KB at the archive class's price.
	archiveStandardOverhead = 8 << 10
	archiveClassOverhead    = 32 << 10
	// iaMinAge is the age an object needs before a lifecycle rule may move it
	// into STANDARD_IA or ONEZONE_IA.
	iaMinAge = 30 * 24 * time.Hour
	day      = 24 * time.Hour
)

// ParseStorageClass maps an API or inventory class name to a StorageClass.
// An empty name is STANDARD (ListObjectsV2 and HeadObject omit it for
// STANDARD objects); REDUCED_REDUNDANCY and unknown names are errors, so a
// plan never prices a class it does not know.
func ParseStorageClass(s string) (StorageClass, error) {
	if s == "" {
		return Standard, nil
	}
	c := StorageClass(s)
	if c.Known() {
		return c, nil
	}
	return "", fmt.Errorf("unknown storage class %q: the cost model knows %v", s, Classes)
}

// Known reports whether c is one of [Classes].
func (c StorageClass) Known() bool {
	switch c {
	case Standard, StandardIA, OneZoneIA, IntelligentTiering, GlacierIR, Glacier, DeepArchive:
		return true
	}
	return false
}

// Queryable reports whether a query engine can read objects of class c
// without a restore. GLACIER and DEEP_ARCHIVE answer GET with 403
// InvalidObjectState until restored. INTELLIGENT_TIERING is queryable as
// long as its opt-in archive tiers stay off, which Meridian never enables.
func (c StorageClass) Queryable() bool {
	return c != Glacier && c != DeepArchive
}

// Archive reports whether c is an archive class (restore before read, 40 KB
// overhead per object).
func (c StorageClass) Archive() bool { return c == Glacier || c == DeepArchive }

// MinDuration is the minimum storage duration S3 bills for class c: an
// object deleted, overwritten or transitioned out earlier is billed for the
// remaining days.
func (c StorageClass) MinDuration() time.Duration {
	switch c {
	case StandardIA, OneZoneIA:
		return 30 * day
	case GlacierIR, Glacier:
		return 90 * day
	case DeepArchive:
		return 180 * day
	}
	return 0
}

// minBillable reports whether class c bills objects under 128 KB as 128 KB.
func (c StorageClass) minBillable() bool {
	return c == StandardIA || c == OneZoneIA || c == GlacierIR
}

// transitions lists, for each class, the classes a lifecycle transition may
// move it to (LIFECYCLE.md, "Lifecycle rules": the waterfall). Anything else,
// and any move to a warmer class, needs a CopyObject (and a restore first
// for archived objects).
var transitions = map[StorageClass][]StorageClass{
	Standard:           {StandardIA, OneZoneIA, IntelligentTiering, GlacierIR, Glacier, DeepArchive},
	StandardIA:         {IntelligentTiering, OneZoneIA, GlacierIR, Glacier, DeepArchive},
	IntelligentTiering: {OneZoneIA, GlacierIR, Glacier, DeepArchive},
	OneZoneIA:          {Glacier, DeepArchive},
	GlacierIR:          {Glacier, DeepArchive},
	Glacier:            {DeepArchive},
	DeepArchive:        nil,
}

// CanTransition reports whether S3's transition order allows moving an
// object from class from to class to. A class never transitions to itself.
func CanTransition(from, to StorageClass) bool {
	for _, c := range transitions[from] {
		if c == to {
			return true
		}
	}
	return false
}
