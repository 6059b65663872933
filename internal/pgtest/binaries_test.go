package pgtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeInstall creates root/<version>/bin holding the named files, executable.
func fakeInstall(t *testing.T, root, version string, names ...string) string {
	t.Helper()
	dir := filepath.Join(root, version, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindBinDir(t *testing.T) {
	root := t.TempDir()
	v96 := fakeInstall(t, root, "9.6", serverBinaries...)
	v15 := fakeInstall(t, root, "15", serverBinaries...)
	fakeInstall(t, root, "16", "initdb", "postgres") // no pg_ctl: incomplete
	pattern := filepath.Join(root, "*", "bin")

	for _, tc := range []struct {
		name, override, pattern string
		want                    string // "" means an error mentioning `make tools`
	}{
		{"newest complete version wins, numerically", "", pattern, v15},
		{"override wins", v96, pattern, v96},
		{"override lacking binaries fails", filepath.Join(root, "16", "bin"), pattern, ""},
		{"override that does not exist fails", filepath.Join(root, "nosuch"), pattern, ""},
		{"nothing installed fails", "", filepath.Join(root, "none", "*", "bin"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findBinDir(tc.override, tc.pattern)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "make tools") {
					t.Errorf("findBinDir(%q, %q) = %q, %v; want an error saying to run `make tools`", tc.override, tc.pattern, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("findBinDir(%q, %q) = %q, %v; want %q", tc.override, tc.pattern, got, err, tc.want)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		sign int
	}{
		{"15", "9.6", 1},
		{"9.6", "10", -1},
		{"16", "16", 0},
		{"15", "15.2", -1},
		{"devel", "9", -1},
	} {
		got := compareVersions(tc.a, tc.b)
		if sign(got) != tc.sign {
			t.Errorf("compareVersions(%q, %q) = %d, want sign %d", tc.a, tc.b, got, tc.sign)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
