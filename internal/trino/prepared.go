package trino

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// MaxPreparedBytes bounds the decoded size of one prepared statement, so a
// small compressed header cannot expand without limit.
const MaxPreparedBytes = 1 << 20

const zstdPrefix = "$zstd:"

// ParsePrepared decodes X-Trino-Prepared-Statement header values (each a
// comma-separated list of urlencode(name)=urlencode(sql), where the sql may be
// "$zstd:" + base64url(zstd(sql))) into name → SQL. A later entry for the
// same name wins, as a client folding Added-Prepare headers would do.
func ParsePrepared(values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		for _, entry := range strings.Split(v, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			name, sql, err := ParsePreparedEntry(entry)
			if err != nil {
				return nil, err
			}
			out[name] = sql
		}
	}
	return out, nil
}

// ParsePreparedEntry decodes one name=sql entry.
func ParsePreparedEntry(entry string) (name, sql string, err error) {
	k, v, ok := strings.Cut(entry, "=")
	if !ok {
		return "", "", fmt.Errorf("prepared statement header entry has no '=': want name=urlencoded-sql")
	}
	if name, err = url.QueryUnescape(strings.TrimSpace(k)); err != nil || name == "" {
		return "", "", fmt.Errorf("prepared statement header has a bad name %q", k)
	}
	if sql, err = url.QueryUnescape(strings.TrimSpace(v)); err != nil {
		return "", "", fmt.Errorf("prepared statement %q is not url-encoded: %v", name, err)
	}
	if strings.HasPrefix(sql, zstdPrefix) {
		if sql, err = decodeZstd(sql[len(zstdPrefix):]); err != nil {
			return "", "", fmt.Errorf("prepared statement %q: %v", name, err)
		}
	}
	if len(sql) > MaxPreparedBytes {
		return "", "", fmt.Errorf("prepared statement %q is longer than %d bytes", name, MaxPreparedBytes)
	}
	return name, sql, nil
}

func decodeZstd(b64 string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(b64, "="))
	if err != nil {
		return "", fmt.Errorf("$zstd: value is not base64url: %v", err)
	}
	dec, err := zstd.NewReader(bytes.NewReader(raw), zstd.WithDecoderMaxMemory(2*MaxPreparedBytes))
	if err != nil {
		return "", err
	}
	defer dec.Close()
	out, err := io.ReadAll(io.LimitReader(dec, MaxPreparedBytes+1))
	if err != nil {
		return "", fmt.Errorf("$zstd: value does not decompress: %v", err)
	}
	if len(out) > MaxPreparedBytes {
		return "", fmt.Errorf("$zstd: value expands beyond %d bytes", MaxPreparedBytes)
	}
	return string(out), nil
}

// EncodePrepared renders one header entry for name and sql. SQL over
// compressAbove bytes (0 = never) is sent as $zstd:, as Trino does for long
// statements.
func EncodePrepared(name, sql string, compressAbove int) string {
	v := sql
	if compressAbove > 0 && len(sql) > compressAbove {
		enc, _ := zstd.NewWriter(nil)
		v = zstdPrefix + base64.RawURLEncoding.EncodeToString(enc.EncodeAll([]byte(sql), nil))
		_ = enc.Close()
	}
	return url.QueryEscape(name) + "=" + url.QueryEscape(v)
}
