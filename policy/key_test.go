package policy

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// Every field of the input is in the cache key, except the query id when the
// pack does not read it: a field added to Input but forgotten in key would
// let two different inputs share a decision.
func TestKeyCoversEveryField(t *testing.T) {
	base := Input{
		Version:   1,
		Subject:   Subject{User: "u", Groups: []string{"g"}, Region: "eu", Purposes: []string{"p"}},
		Request:   Request{Purpose: "p", Source: "s", ClientTags: []string{"t"}, QueryID: "q"},
		Statement: Statement{Kind: "select", Analysis: "ast", Fingerprint: "f", Opaque: []string{"o"}, WritesTo: []Write{{Table: "w", Region: "eu"}}},
		Tables: []Table{{Name: "n", Access: "read", Region: "eu", Classification: "personal", Purposes: []string{"p"},
			ColumnsRead: []string{"c"}, PIIColumnsRead: []string{"c"}, PIIInOutput: []string{"c"}, PIIGroupedBy: []string{"c"}}},
		Regions: map[string]RegionInfo{"eu": {Jurisdiction: "EEA"}},
	}
	want := base.key(nil, false)
	seen := 0
	var visit func(path string, v reflect.Value)
	mutate := func(path string) {
		path = strings.TrimPrefix(path, ".")
		seen++
		got := base.key(nil, false)
		if path == "Request.QueryID" {
			if !bytes.Equal(got, want) {
				t.Errorf("the query id changed the key of a pack that does not read it")
			}
			if bytes.Equal(base.key(nil, true), (&Input{Version: 1}).key(nil, true)) {
				t.Errorf("keyed with the query id, the key ignores it")
			}
			return
		}
		if bytes.Equal(got, want) {
			t.Errorf("changing %s does not change the cache key", path)
		}
	}
	visit = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				visit(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.String {
				old := v.Index(0).String()
				v.Index(0).SetString(old + "x")
				mutate(path)
				v.Index(0).SetString(old)
				return
			}
			for i := range v.Len() {
				visit(path+"[]", v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				ri := v.MapIndex(k).Interface().(RegionInfo)
				ri.Jurisdiction += "x"
				v.SetMapIndex(k, reflect.ValueOf(ri))
				mutate(path + ".Jurisdiction")
				ri.Jurisdiction = ri.Jurisdiction[:len(ri.Jurisdiction)-1]
				ri.Healthy = !ri.Healthy
				v.SetMapIndex(k, reflect.ValueOf(ri))
				mutate(path + ".Healthy")
				ri.Healthy = !ri.Healthy
				v.SetMapIndex(k, reflect.ValueOf(ri))
			}
		case reflect.String:
			old := v.String()
			v.SetString(old + "x")
			mutate(path)
			v.SetString(old)
		case reflect.Bool:
			v.SetBool(!v.Bool())
			mutate(path)
			v.SetBool(!v.Bool())
		case reflect.Int:
			v.SetInt(v.Int() + 1)
			mutate(path)
			v.SetInt(v.Int() - 1)
		default:
			t.Fatalf("%s: kind %s not covered by this test", path, v.Kind())
		}
	}
	visit("", reflect.ValueOf(&base).Elem())
	if seen < 30 {
		t.Fatalf("visited %d fields; the walk is broken", seen)
	}
}

// The cache stays within its byte budget however large the inputs.
func TestCacheByteBudget(t *testing.T) {
	c := &decisionCache{max: 1_000_000, cur: map[string]Decision{}}
	key := make([]byte, maxKeyBytes)
	for i := range 5000 {
		key[0], key[1], key[2] = byte(i), byte(i>>8), byte(i>>16)
		c.put(key, Decision{Allow: true, Regions: []string{"eu"}})
	}
	total := 0
	for k := range c.cur {
		total += len(k)
	}
	for k := range c.old {
		total += len(k)
	}
	if total > maxCacheBytes {
		t.Fatalf("cache holds %d key bytes, over the budget of %d", total, maxCacheBytes)
	}
	if len(c.cur)+len(c.old) == 0 {
		t.Fatal("the cache holds nothing")
	}
}
