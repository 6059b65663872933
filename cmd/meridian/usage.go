package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// usage prints the top-level usage: one line per command, from the table.
func usage(w io.Writer) {
	fmt.Fprint(w, "Meridian plans Trino SQL against data-residency policy and governs a data lake.\n\n")
	fmt.Fprint(w, "Usage:\n  meridian <command> [flags] [arguments]\n\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, "\nRun \"meridian help <command>\" for a command's flags and arguments.\n")
}

// newFlagSet returns a command's flag set. Parse errors are returned, not
// fatal; parseFlags prints the full help for -h and a one-line hint after a
// bad flag, so a typo does not bury the error under the help text.
func newFlagSet(st streams, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(st.err)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", strings.TrimSpace("meridian "+name+" "+synopsis), description)
		printFlags(w, fs)
	}
	return fs
}

// printFlags lists fs's flags with two dashes, as the help text spells them.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var rows []string
	fs.VisitAll(func(f *flag.Flag) {
		arg, text := flag.UnquoteUsage(f)
		row := "  --" + f.Name
		if arg != "" {
			row += " " + arg
		}
		row += "\t" + text
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def := f.DefValue
			if g, ok := f.Value.(flag.Getter); ok {
				if _, isString := g.Get().(string); isString {
					def = strconv.Quote(def)
				}
			}
			row += " (default " + def + ")"
		}
		rows = append(rows, row)
	})
	if len(rows) == 0 {
		return
	}
	fmt.Fprint(w, "\nFlags:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, r)
	}
	tw.Flush()
}

// parseFlags parses args with fs, also accepting flags after positional
// arguments (meridian plan "SELECT 1" --json); "--" ends the flags. It
// returns the positional arguments, or the exit code to stop with: exitOK
// after printing the help for -h, exitUsage for a bad flag.
func parseFlags(fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	help := fs.Usage
	fs.Usage = func() {} // the flag package calls it on every error; see below
	defer func() { fs.Usage = help }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help()
				return nil, exitOK, false
			}
			// The flag package has printed the error itself.
			fmt.Fprintf(fs.Output(), "Run \"meridian help %s\" for usage.\n", fs.Name())
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, exitOK, true
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(positional, rest...), exitOK, true
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageError reports a usage mistake the flag package cannot see.
func usageError(st streams, name, format string, args ...any) int {
	fmt.Fprintf(st.err, "meridian %s: %s\nRun \"meridian help %s\" for usage.\n", name, fmt.Sprintf(format, args...), name)
	return exitUsage
}

func runHelp(ctx context.Context, st streams, args []string) int {
	fs := newFlagSet(st, "help", "[command]", "Help shows the commands, or one command's flags and arguments.")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	switch len(pos) {
	case 0:
		usage(st.out)
		return exitOK
	case 1:
	default:
		return usageError(st, "help", "want at most one command, got %d arguments", len(pos))
	}
	c, found := lookup(pos[0])
	if !found {
		fmt.Fprintf(st.err, "meridian help: unknown command %q\n\n", pos[0])
		usage(st.err)
		return exitUsage
	}
	// A command's -h is its help; asked for, it goes to standard output.
	return c.run(ctx, streams{in: st.in, out: st.out, err: st.out}, []string{"-h"})
}

// subcommand picks the subcommand of a command whose subcommands take
// different flags: pos[0] must be a key of flags, whose value lists the
// flags it accepts besides the common ones. A flag set for another
// subcommand is a usage error, so a typo never silently does nothing.
func subcommand(st streams, name string, fs *flag.FlagSet, pos []string, flags map[string][]string, common []string) (sub string, rest []string, code int, ok bool) {
	names := slices.Sorted(maps.Keys(flags))
	want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(pos) == 0 {
		return "", nil, usageError(st, name, "want a subcommand: %s", want), false
	}
	sub, rest = pos[0], pos[1:]
	allowed, known := flags[sub]
	if !known {
		return "", nil, usageError(st, name, "unknown subcommand %q: want %s", sub, want), false
	}
	var stray []string
	fs.Visit(func(f *flag.Flag) {
		if !slices.Contains(common, f.Name) && !slices.Contains(allowed, f.Name) {
			stray = append(stray, "--"+f.Name)
		}
	})
	if len(stray) > 0 {
		return "", nil, usageError(st, name, "%s does not apply to %s", strings.Join(stray, ", "), sub), false
	}
	return sub, rest, exitOK, true
}
