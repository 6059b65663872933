package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes shared by every command.
const (
	exitOK          = 0
	exitFailed      = 1   // the command ran but its subject failed (a statement did not parse)
	exitUsage       = 2   // bad flags or arguments, unreadable or oversized input
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM, as shells report it
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// streams are the process's standard streams, passed down explicitly so
// tests drive run with buffers.
type streams struct {
	in  io.Reader
	out io.Writer
	err io.Writer
}

// command is one subcommand. run gets the arguments after the command name
// and returns the exit code; it prints its own usage for -h.
type command struct {
	name    string
	summary string // one line for the usage text
	run     func(ctx context.Context, st streams, args []string) int
}

// commands lists the subcommands in the order the usage text shows them. It
// is a function rather than a variable because help refers back to it.
func commands() []command {
	return []command{
		{"serve", "run Meridian: the Trino front door and the compliance and admin APIs", runServe},
		{"plan", "show how a SQL statement is analysed, without running it", runPlan},
		{"catalog", "list, describe and tag the lake's tables", runCatalog},
		{"policy", "push, test, dry-run, activate and roll back policy versions; show decisions", runPolicy},
		{"users", "add and list the users that log in with passwords", runUsers},
		{"lifecycle", "keep each region's lake under its storage budget: scan, plan, apply, report, jobs, restore", runLifecycle},
		{"demo", "create the demo lake (demo init)", runDemo},
		{"version", "print the version", runVersion},
		{"help", "show help for a command", runHelp},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run is the whole program but for process state: arguments, streams and a
// context cancelled on SIGINT or SIGTERM come in, an exit code goes out.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	st := streams{in: stdin, out: stdout, err: stderr}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "meridian: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(ctx, st, args[1:])
}
