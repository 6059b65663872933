// Package cfgfile reads configuration files with a size limit and decodes
// YAML strictly (an unknown key is an error naming its line), for both
// binaries and every file they are configured with; and writes files
// atomically (users files, certificates, bundles).
//
// It imports nothing from Meridian; any package may import it.
package cfgfile
