package policy

import (
	"encoding/binary"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The decision cache.
//
// A decision is a pure function of the input and the policy version (its
// rules and data never change once compiled), so a version remembers the
// decisions it made. Analysts, dashboards and scheduled jobs send the same
// statements again and again; each differs from the last only in its query
// id, so the key leaves request.query_id out, unless the pack reads it.
//
// Keys are the input's exact canonical encoding, not a hash of it: a
// collision would hand one statement another statement's decision. A pack
// that calls a non-deterministic builtin (time.now_ns, http.send, rand…) is
// never cached. Only well-formed decisions are cached; timeouts and errors
// are evaluated again next time.

// DefaultCacheEntries bounds the decisions one version remembers.
const DefaultCacheEntries = 10_000

// maxKeyBytes skips caching inputs whose encoding is larger than this:
// such statements are rare and would crowd the cache.
const maxKeyBytes = 16 << 10

// maxCacheBytes bounds the keys one version's cache holds, whatever the
// statements: at most twice this in memory with both generations.
const maxCacheBytes = 16 << 20

// CacheStats counts decision cache lookups.
type CacheStats struct {
	Enabled bool   `json:"enabled"`
	Hits    uint64 `json:"hits"`
	Misses  uint64 `json:"misses"`
	Entries int    `json:"entries"`
	// KeysQueryID is true when the pack reads request.query_id, so the
	// query id is part of the key (and repeated statements never hit).
	KeysQueryID bool `json:"keys_query_id"`
	// QueryIDRead says where the pack reads the query id, when it does.
	QueryIDRead string `json:"query_id_read,omitempty"`
}

// decisionCache is a two-generation cache: lookups promote entries from the
// old generation; when the new one is full it becomes the old one. This is
// close to LRU at a fraction of the bookkeeping.
type decisionCache struct {
	max         int
	withQueryID bool
	queryIDRead string

	mu       sync.Mutex
	cur, old map[string]Decision
	curBytes int // the key bytes in cur

	hits, misses atomic.Uint64
}

// newDecisionCache returns a cache for the pack of these (parsed, not yet
// compiled) rule modules, or nil when its decisions may not be cached or
// max <= 0.
func newDecisionCache(modules map[string]*ast.Module, max int) *decisionCache {
	if max <= 0 {
		return nil
	}
	deterministic, queryIDRead := inspectPack(modules)
	if !deterministic {
		return nil
	}
	return &decisionCache{max: max, withQueryID: queryIDRead != "", queryIDRead: queryIDRead, cur: map[string]Decision{}}
}

// inspectPack reports whether the pack's rules call only deterministic
// builtins, and where they may read input.request.query_id ("" if nowhere):
// reading input or input.request whole, or with a computed key, counts,
// except as the argument of a builtin that looks only at a value's type.
// It reads the modules as parsed: compiling hoists call arguments into
// local variables, which would hide what a call is given.
func inspectPack(modules map[string]*ast.Module) (deterministic bool, queryIDRead string) {
	deterministic = true
	var vis *ast.GenericVisitor
	call := func(op string, args []*ast.Term) bool {
		if b, ok := ast.BuiltinMap[op]; ok && b.Nondeterministic {
			deterministic = false
		}
		if !typeOnly[op] {
			return false
		}
		for _, a := range args {
			if r, ok := a.Value.(ast.Ref); ok && len(r) <= 2 && r.HasPrefix(ast.InputRootRef) {
				continue // only the type of input or of one of its sections
			}
			vis.Walk(a)
		}
		return true
	}
	vis = ast.NewGenericVisitor(func(x any) bool {
		switch x := x.(type) {
		case *ast.Expr:
			if x.IsCall() {
				terms := x.Terms.([]*ast.Term)
				return call(terms[0].String(), terms[1:])
			}
		case ast.Call:
			return call(x[0].String(), x[1:])
		case *ast.Term:
			if r, ok := x.Value.(ast.Ref); ok && queryIDRead == "" && readsQueryID(r) {
				queryIDRead = x.Location.String() + " reads " + r.String()
			}
		}
		return false
	})
	for _, name := range sortedKeys(modules) {
		vis.Walk(modules[name])
	}
	return deterministic, queryIDRead
}

// typeOnly are the builtins whose result depends only on their argument's
// type.
var typeOnly = map[string]bool{
	"is_array": true, "is_boolean": true, "is_null": true, "is_number": true,
	"is_object": true, "is_set": true, "is_string": true, "type_name": true,
}

// readsQueryID reports whether r may read input.request.query_id.
func readsQueryID(r ast.Ref) bool {
	if !r.HasPrefix(ast.InputRootRef) {
		return false
	}
	switch {
	case len(r) < 2 || !isConst(r[1]):
		return true // input whole, or input[x]
	case !isKey(r[1], "request"):
		return false
	case len(r) < 3 || !isConst(r[2]):
		return true // input.request whole, or input.request[x]
	}
	return isKey(r[2], "query_id")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isConst(t *ast.Term) bool {
	_, ok := t.Value.(ast.String)
	return ok
}

func isKey(t *ast.Term, k string) bool {
	s, ok := t.Value.(ast.String)
	return ok && string(s) == k
}

func (c *decisionCache) get(key []byte) (Decision, bool) {
	c.mu.Lock()
	d, ok := c.cur[string(key)]
	if !ok {
		if d, ok = c.old[string(key)]; ok {
			c.putLocked(string(key), d)
		}
	}
	c.mu.Unlock()
	if ok {
		c.hits.Add(1)
		return d.clone(), true
	}
	c.misses.Add(1)
	return Decision{}, false
}

func (c *decisionCache) put(key []byte, d Decision) {
	if len(key) > maxKeyBytes {
		return
	}
	d = d.clone()
	c.mu.Lock()
	c.putLocked(string(key), d)
	c.mu.Unlock()
}

func (c *decisionCache) putLocked(key string, d Decision) {
	if len(c.cur) >= (c.max+1)/2 || c.curBytes+len(key) > maxCacheBytes/2 {
		c.old, c.cur = c.cur, make(map[string]Decision, len(c.cur))
		c.curBytes = 0
	}
	if _, ok := c.cur[key]; !ok {
		c.curBytes += len(key)
	}
	c.cur[key] = d
}

func (c *decisionCache) stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	n := len(c.cur) + len(c.old)
	c.mu.Unlock()
	return CacheStats{Enabled: true, Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: n, KeysQueryID: c.withQueryID, QueryIDRead: c.queryIDRead}
}

// clone copies d so that neither the cache nor a caller can change the
// other's decision.
func (d Decision) clone() Decision {
	d.Regions = slices.Clone(d.Regions)
	d.Violations = slices.Clone(d.Violations)
	if d.Obligations != nil {
		d.Obligations = maps.Clone(d.Obligations)
	}
	return d
}

// key appends the canonical encoding of in to buf: every field in a fixed
// order, strings and lists length-prefixed, regions sorted by name. The
// query id is left out unless withQueryID.
func (in *Input) key(buf []byte, withQueryID bool) []byte {
	buf = binary.AppendVarint(buf, int64(in.Version))
	s := &in.Subject
	buf = appendStr(buf, s.User)
	buf = appendStrs(buf, s.Groups)
	buf = appendStr(buf, s.Region)
	buf = appendStrs(buf, s.Purposes)
	buf = appendBool(buf, s.Authenticated)
	r := &in.Request
	buf = appendStr(buf, r.Purpose)
	buf = appendStr(buf, r.Source)
	buf = appendStrs(buf, r.ClientTags)
	if withQueryID {
		buf = appendStr(buf, r.QueryID)
	}
	st := &in.Statement
	buf = appendStr(buf, st.Kind)
	buf = appendStr(buf, st.Analysis)
	buf = appendStr(buf, st.Fingerprint)
	buf = appendStrs(buf, st.Opaque)
	buf = binary.AppendUvarint(buf, uint64(len(st.WritesTo)))
	for _, w := range st.WritesTo {
		buf = appendStr(buf, w.Table)
		buf = appendStr(buf, w.Region)
	}
	buf = binary.AppendUvarint(buf, uint64(len(in.Tables)))
	for i := range in.Tables {
		t := &in.Tables[i]
		buf = appendStr(buf, t.Name)
		buf = appendStr(buf, t.Access)
		buf = appendStr(buf, t.Region)
		buf = appendStr(buf, t.Classification)
		buf = appendStrs(buf, t.Purposes)
		buf = appendStrs(buf, t.ColumnsRead)
		buf = appendStrs(buf, t.PIIColumnsRead)
		buf = appendStrs(buf, t.PIIInOutput)
		buf = appendStrs(buf, t.PIIGroupedBy)
		buf = appendBool(buf, t.OutputAggregated)
		buf = binary.AppendVarint(buf, int64(t.RetentionDays))
		buf = binary.AppendVarint(buf, int64(t.UnreadablePartitions))
	}
	names := make([]string, 0, len(in.Regions))
	for name := range in.Regions {
		names = append(names, name)
	}
	sort.Strings(names)
	buf = binary.AppendUvarint(buf, uint64(len(names)))
	for _, name := range names {
		ri := in.Regions[name]
		buf = appendStr(buf, name)
		buf = appendStr(buf, ri.Jurisdiction)
		buf = appendBool(buf, ri.Healthy)
	}
	return buf
}

func appendStr(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// appendStrs encodes a nil list like an empty one, as Input.value does.
func appendStrs(buf []byte, ss []string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(ss)))
	for _, s := range ss {
		buf = appendStr(buf, s)
	}
	return buf
}

func appendBool(buf []byte, b bool) []byte {
	if b {
		return append(buf, 1)
	}
	return append(buf, 0)
}

var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}
