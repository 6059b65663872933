module github.com/meridian-lake/meridian

go 1.26
