package regoplan

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Program is a prepared plan: every statement resolved to an instruction,
// every call to its function or built-in. It is immutable and safe for
// concurrent runs.
type Program struct {
	plan    function // the query plan: a function of input and data
	funcs   []*function
	memos   int      // memoised functions (those of input and data only)
	maxArgs int      // the most operands of one built-in call
	files   []string // the policy's file names, for errors
}

// UnsupportedError says why a plan cannot be run here; the caller falls
// back to OPA's evaluator.
type UnsupportedError struct {
	Reasons []string
}

func (e *UnsupportedError) Error() string {
	return "regoplan: the plan cannot be run here: " + strings.Join(e.Reasons, "; ")
}

// opcode is what an instruction does; one per IR statement kind.
type opcode uint8

const (
	opNop opcode = iota
	opReturn
	opCallFunc
	opCallBuiltin
	opBlock
	opBreak
	opDot
	opLen
	opScan
	opNot
	opAssignInt
	opAssignVar
	opAssignVarOnce
	opReset
	opMakeConst // MakeNull, MakeNumberInt, MakeNumberRef: a constant term
	opMakeArray
	opMakeObject
	opMakeSet
	opEqual
	opNotEqual
	opIsArray
	opIsObject
	opIsSet
	opIsDefined
	opIsUndefined
	opArrayAppend
	opObjectInsert
	opObjectInsertOnce
	opSetAdd
	opResultSetAdd
)

// operand is a local (local >= 0) or a constant term.
type operand struct {
	local int32
	term  *ast.Term
}

// instr is one statement, resolved.
type instr struct {
	op     opcode
	a, b   operand // sources (Dot: a source, b key; Equal: a, b; inserts: a key, b value)
	target int32   // the local written (or the collection appended to)
	n      int64   // Break: the index; AssignInt: the value; MakeArray: the capacity
	key    int32   // Scan: the key local
	value  int32   // Scan: the value local
	body   []instr // Scan, Not: the nested block
	blocks [][]instr
	fn     *function
	bi     *builtin
	args   []operand
	loc    *ir.Location
}

// function is a planned function: a rule, or a function of the policy.
type function struct {
	name    string
	params  []int32
	ret     int32
	blocks  [][]instr
	nlocals int
	memo    int // the memo slot, or -1
}

// builtin is one of OPA's built-in functions.
type builtin struct {
	name     string
	f        topdown.BuiltinFunc
	relation bool // it outputs many values (walk): the plan scans them as one array
}

// unrunnable lists built-ins that need what a plain run does not give them
// (a tracer, the runtime, a print hook, a test runner) or whose results
// depend on more than their operands.
var unrunnable = map[string]bool{
	"trace": true, "print": true, "internal.print": true, "opa.runtime": true,
	"internal.test_case": true, "rego.metadata.chain": true, "rego.metadata.rule": true,
}

// Prepare resolves the first plan of pol and every function it can call.
// builtins declares the built-ins the policy may call (ast.BuiltinMap when
// nil). It returns an *UnsupportedError when the plan uses anything this
// package does not run exactly as OPA would.
func Prepare(pol *ir.Policy, builtins map[string]*ast.Builtin) (*Program, error) {
	if pol == nil || pol.Plans == nil || len(pol.Plans.Plans) == 0 {
		return nil, errors.New("regoplan: the policy has no plan")
	}
	if builtins == nil {
		builtins = ast.BuiltinMap
	}
	p := &prep{pol: pol, builtins: builtins, byName: map[string]*function{}, bis: map[string]*builtin{}}
	prog := &Program{}
	if pol.Static != nil {
		for _, f := range pol.Static.Files {
			prog.files = append(prog.files, f.Value)
		}
	}
	if pol.Funcs != nil {
		for _, f := range pol.Funcs.Funcs {
			fn := &function{name: f.Name, ret: int32(f.Return), memo: -1}
			for _, l := range f.Params {
				fn.params = append(fn.params, int32(l))
			}
			if len(fn.params) < 2 {
				p.unsupported("function %s takes %d parameters, want input and data first", f.Name, len(fn.params))
				continue
			}
			if len(fn.params) == 2 {
				fn.memo = prog.memos
				prog.memos++
			}
			p.byName[f.Name] = fn
			prog.funcs = append(prog.funcs, fn)
		}
		for i, f := range pol.Funcs.Funcs {
			fn := prog.funcs[i]
			p.maxLocal = int(fn.ret)
			for _, l := range fn.params {
				p.maxLocal = max(p.maxLocal, int(l))
			}
			for _, b := range f.Blocks {
				fn.blocks = append(fn.blocks, p.block(b))
			}
			fn.nlocals = p.maxLocal + 1
		}
	}
	plan := pol.Plans.Plans[0]
	p.maxLocal = int(ir.Data)
	for _, b := range plan.Blocks {
		prog.plan.blocks = append(prog.plan.blocks, p.block(b))
	}
	prog.plan.name = plan.Name
	prog.plan.params = []int32{int32(ir.Input), int32(ir.Data)}
	prog.plan.nlocals = p.maxLocal + 1
	prog.plan.memo = -1
	prog.maxArgs = p.maxArgs
	if len(p.reasons) > 0 {
		sort.Strings(p.reasons)
		return nil, &UnsupportedError{Reasons: slices.Compact(p.reasons)}
	}
	return prog, nil
}

// prep is the state of one Prepare.
type prep struct {
	pol      *ir.Policy
	builtins map[string]*ast.Builtin
	byName   map[string]*function
	bis      map[string]*builtin
	reasons  []string
	maxLocal int
	maxArgs  int
}

func (p *prep) unsupported(format string, args ...any) {
	p.reasons = append(p.reasons, fmt.Sprintf(format, args...))
}

func (p *prep) local(l ir.Local) int32 {
	p.maxLocal = max(p.maxLocal, int(l))
	return int32(l)
}

func (p *prep) operand(o ir.Operand) operand {
	switch v := o.Value.(type) {
	case ir.Local:
		return operand{local: p.local(v)}
	case ir.StringIndex:
		if int(v) < 0 || p.pol.Static == nil || int(v) >= len(p.pol.Static.Strings) {
			p.unsupported("string constant %d out of range", v)
			return operand{local: -1, term: ast.NullTerm()}
		}
		return operand{local: -1, term: ast.StringTerm(p.pol.Static.Strings[v].Value)}
	case ir.Bool:
		return operand{local: -1, term: ast.InternedTerm(bool(v))}
	}
	p.unsupported("operand %T", o.Value)
	return operand{local: -1, term: ast.NullTerm()}
}

func (p *prep) block(b *ir.Block) []instr {
	out := make([]instr, 0, len(b.Stmts))
	for _, s := range b.Stmts {
		out = append(out, p.stmt(s))
	}
	return out
}

func (p *prep) stmt(s ir.Stmt) instr {
	in := instr{loc: s.GetLocation(), target: -1}
	switch s := s.(type) {
	case *ir.NopStmt:
		in.op = opNop
	case *ir.ReturnLocalStmt:
		in.op, in.a = opReturn, operand{local: p.local(s.Source)}
	case *ir.CallStmt:
		in.target = p.local(s.Result)
		for _, a := range s.Args {
			in.args = append(in.args, p.operand(a))
		}
		if fn, ok := p.byName[s.Func]; ok {
			in.op, in.fn = opCallFunc, fn
			if len(in.args) != len(fn.params) {
				p.unsupported("call of %s with %d arguments, want %d", s.Func, len(in.args), len(fn.params))
			}
			break
		}
		in.op, in.bi = opCallBuiltin, p.builtin(s.Func)
		p.maxArgs = max(p.maxArgs, len(in.args))
	case *ir.BlockStmt:
		in.op = opBlock
		for _, b := range s.Blocks {
			in.blocks = append(in.blocks, p.block(b))
		}
	case *ir.BreakStmt:
		in.op, in.n = opBreak, int64(s.Index)
	case *ir.DotStmt:
		in.op, in.a, in.b, in.target = opDot, p.operand(s.Source), p.operand(s.Key), p.local(s.Target)
	case *ir.LenStmt:
		in.op, in.a, in.target = opLen, p.operand(s.Source), p.local(s.Target)
	case *ir.ScanStmt:
		in.op, in.a = opScan, operand{local: p.local(s.Source)}
		in.key, in.value = p.local(s.Key), p.local(s.Value)
		in.body = p.block(s.Block)
	case *ir.NotStmt:
		in.op, in.body = opNot, p.block(s.Block)
	case *ir.AssignIntStmt:
		in.op, in.n, in.target = opAssignInt, s.Value, p.local(s.Target)
	case *ir.AssignVarStmt:
		in.op, in.a, in.target = opAssignVar, p.operand(s.Source), p.local(s.Target)
	case *ir.AssignVarOnceStmt:
		in.op, in.a, in.target = opAssignVarOnce, p.operand(s.Source), p.local(s.Target)
	case *ir.ResetLocalStmt:
		in.op, in.target = opReset, p.local(s.Target)
	case *ir.MakeNullStmt:
		in.op, in.a, in.target = opMakeConst, operand{local: -1, term: ast.NullTerm()}, p.local(s.Target)
	case *ir.MakeNumberIntStmt:
		in.op, in.a, in.target = opMakeConst, operand{local: -1, term: ast.InternedTerm(int(s.Value))}, p.local(s.Target)
		if int64(int(s.Value)) != s.Value {
			in.a.term = ast.NumberTerm(json.Number(fmt.Sprint(s.Value)))
		}
	case *ir.MakeNumberRefStmt:
		in.op, in.target = opMakeConst, p.local(s.Target)
		in.a = operand{local: -1, term: ast.NullTerm()}
		if p.pol.Static == nil || s.Index < 0 || s.Index >= len(p.pol.Static.Strings) {
			p.unsupported("number constant %d out of range", s.Index)
			break
		}
		num := p.pol.Static.Strings[s.Index].Value
		if _, err := json.Number(num).Float64(); err != nil {
			p.unsupported("number constant %q: %v", num, err)
			break
		}
		in.a.term = ast.NumberTerm(json.Number(num))
	case *ir.MakeArrayStmt:
		in.op, in.n, in.target = opMakeArray, int64(max(s.Capacity, 0)), p.local(s.Target)
	case *ir.MakeObjectStmt:
		in.op, in.target = opMakeObject, p.local(s.Target)
	case *ir.MakeSetStmt:
		in.op, in.target = opMakeSet, p.local(s.Target)
	case *ir.EqualStmt:
		in.op, in.a, in.b = opEqual, p.operand(s.A), p.operand(s.B)
	case *ir.NotEqualStmt:
		in.op, in.a, in.b = opNotEqual, p.operand(s.A), p.operand(s.B)
	case *ir.IsArrayStmt:
		in.op, in.a = opIsArray, p.operand(s.Source)
	case *ir.IsObjectStmt:
		in.op, in.a = opIsObject, p.operand(s.Source)
	case *ir.IsSetStmt:
		in.op, in.a = opIsSet, p.operand(s.Source)
	case *ir.IsDefinedStmt:
		in.op, in.a = opIsDefined, operand{local: p.local(s.Source)}
	case *ir.IsUndefinedStmt:
		in.op, in.a = opIsUndefined, operand{local: p.local(s.Source)}
	case *ir.ArrayAppendStmt:
		in.op, in.b, in.target = opArrayAppend, p.operand(s.Value), p.local(s.Array)
	case *ir.ObjectInsertStmt:
		in.op, in.a, in.b, in.target = opObjectInsert, p.operand(s.Key), p.operand(s.Value), p.local(s.Object)
	case *ir.ObjectInsertOnceStmt:
		in.op, in.a, in.b, in.target = opObjectInsertOnce, p.operand(s.Key), p.operand(s.Value), p.local(s.Object)
	case *ir.SetAddStmt:
		in.op, in.b, in.target = opSetAdd, p.operand(s.Value), p.local(s.Set)
	case *ir.ResultSetAddStmt:
		in.op, in.a = opResultSetAdd, operand{local: p.local(s.Value)}
	default:
		// WithStmt, CallDynamicStmt, ObjectMergeStmt and anything newer.
		p.unsupported("statement %T", s)
	}
	return in
}

// builtin resolves a built-in by name, once per Prepare.
func (p *prep) builtin(name string) *builtin {
	if b, ok := p.bis[name]; ok {
		return b
	}
	b := &builtin{name: name}
	p.bis[name] = b
	decl, declared := p.builtins[name]
	f := topdown.GetBuiltin(name)
	switch {
	case !declared || f == nil:
		p.unsupported("built-in %s is not one of OPA's", name)
	case decl.Nondeterministic || unrunnable[name]:
		p.unsupported("built-in %s is not a pure function of its operands", name)
	case decl.Decl == nil || decl.Decl.Result() == nil:
		p.unsupported("built-in %s returns no value", name)
	}
	b.f = f
	b.relation = declared && decl.Relation
	return b
}
