package regoplan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Control signals of a run of instructions besides "break out of n blocks"
// (n >= 0, counted from the innermost block around the instructions, as in
// OPA's WebAssembly: a statement that is undefined is a break out of 0).
const (
	fellThrough = -1 // every instruction ran
	returned    = -2 // a function returned
	failed      = -3 // the run stopped with an error (machine.err)
)

// checkEvery is how many instructions run between looks at the
// cancellation.
const checkEvery = 1024

// ErrConflict is a complete rule or an object key given two values.
var ErrConflict = errors.New("regoplan: conflicting values")

// Options are the per-run settings.
type Options struct {
	// Cancel stops the run (as it stops topdown); may be nil.
	Cancel topdown.Cancel
	// Time is what time.now_ns would read; zero means now. (Plans that call
	// non-deterministic built-ins are refused by Prepare, so only
	// built-ins that format or compare times read it.)
	Time time.Time
}

// Eval runs the plan on input and data and returns its result set: for a
// query of one expression, objects binding the expression's name to its
// value (none when the query is undefined).
func (p *Program) Eval(ctx context.Context, input, data ast.Value, opts Options) ([]*ast.Term, error) {
	m := machines.Get().(*machine)
	defer m.release()
	m.prog = p
	m.cancel = opts.Cancel
	now := opts.Time
	if now.IsZero() {
		now = time.Now()
	}
	m.bctx = topdown.BuiltinContext{
		Context: ctx,
		Metrics: noMetrics,
		Cancel:  opts.Cancel,
		Time:    ast.NumberTerm(json.Number(strconv.FormatInt(now.UnixNano(), 10))),
	}
	if cap(m.memo) < p.memos {
		m.memo = make([]memoEntry, p.memos)
	}
	m.memo = m.memo[:p.memos]
	if cap(m.args) < p.maxArgs {
		m.args = make([]*ast.Term, p.maxArgs)
	}
	fr := m.frame(p.plan.nlocals)
	fr[ir.Input] = ast.NewTerm(input)
	fr[ir.Data] = ast.NewTerm(data)
	for _, b := range p.plan.blocks {
		if r := m.run(b, fr); r == failed {
			return nil, m.err
		}
	}
	out := m.results
	m.results = nil
	return out, nil
}

var noMetrics = metrics.NoOp()

// memoEntry is the value of a rule of input and data, once computed.
type memoEntry struct {
	done  bool
	value *ast.Term // nil: undefined
}

// machine is the state of one run; machines are pooled.
type machine struct {
	prog    *Program
	cancel  topdown.Cancel
	bctx    topdown.BuiltinContext
	memo    []memoEntry
	results []*ast.Term
	ret     *ast.Term // the value of the last ReturnLocal
	err     error
	steps   int
	args    []*ast.Term // the operands of a built-in call
	out     *ast.Term   // the output of a built-in call
	outFn   func(*ast.Term) error
	outs    *ast.Array // the outputs of a relation's call
	outsFn  func(*ast.Term) error
	stack   []*ast.Term // frames of locals
	sp      int         // the first free local of stack
	hwm     int         // the most of stack used since the last release
	// scanners[:depth] are the scans running.
	scanners []*scanner
	depth    int
}

var machines = sync.Pool{New: func() any {
	m := &machine{stack: make([]*ast.Term, 2048)}
	m.outFn, m.outsFn = m.output, m.outputs
	return m
}}

func (m *machine) release() {
	clear(m.memo)
	clear(m.stack[:m.hwm])
	m.sp, m.hwm = 0, 0
	m.prog, m.cancel, m.ret, m.err, m.out, m.results = nil, nil, nil, nil, nil, nil
	m.bctx = topdown.BuiltinContext{}
	m.steps, m.depth = 0, 0
	if len(m.stack) > 1<<16 {
		return // a run that needed a huge stack does not keep it
	}
	machines.Put(m)
}

// frame returns n cleared locals on the stack. A stack that is full is
// replaced; frames still in use keep the old one.
func (m *machine) frame(n int) []*ast.Term {
	if m.sp+n > len(m.stack) {
		m.stack = make([]*ast.Term, max(2*len(m.stack), m.sp+n))
		m.hwm = 0
	}
	fr := m.stack[m.sp : m.sp+n : m.sp+n]
	m.sp += n
	m.hwm = max(m.hwm, m.sp)
	clear(fr)
	return fr
}

func (m *machine) output(t *ast.Term) error {
	m.out = t
	return nil
}

func (m *machine) outputs(t *ast.Term) error {
	*m.outs = *m.outs.Append(t)
	return nil
}

// fail stops the run with err, placed at the statement's position in the
// policy.
func (m *machine) fail(in *instr, err error) int {
	if m.err == nil {
		if in != nil && in.loc != nil && in.loc.Row > 0 {
			err = fmt.Errorf("%w (at %s:%d:%d)", err, m.prog.file(in.loc.File), in.loc.Row, in.loc.Col)
		}
		m.err = err
	}
	return failed
}

// file names the policy file of a statement's location.
func (p *Program) file(i int) string {
	if i >= 0 && i < len(p.files) {
		return p.files[i]
	}
	return fmt.Sprintf("file %d", i)
}

// errUndefinedOperand: an operand's local holds no value where the plan
// needs one. OPA's planner never emits that, so the run stops.
var errUndefinedOperand = errors.New("regoplan: an operand is undefined")

// get reads an operand; nil when its local is undefined.
func get(fr []*ast.Term, o operand) *ast.Term {
	if o.local >= 0 {
		return fr[o.local]
	}
	return o.term
}

// run runs code with the locals fr. It returns fellThrough, returned,
// failed, or the number of blocks to break out of beyond the innermost
// one around code.
func (m *machine) run(code []instr, fr []*ast.Term) int {
	for i := range code {
		in := &code[i]
		m.steps++
		if m.steps%checkEvery == 0 && m.cancelled() {
			return m.fail(in, m.cancelError())
		}
		switch in.op {
		case opNop:
		case opReturn:
			m.ret = fr[in.a.local]
			return returned
		case opCallFunc:
			v, ok := m.call(in, fr)
			if !ok {
				return failed
			}
			if v == nil {
				return 0
			}
			fr[in.target] = v
		case opCallBuiltin:
			v, r := m.callBuiltin(in, fr)
			if r != fellThrough {
				return r
			}
			fr[in.target] = v
		case opBlock:
			for _, b := range in.blocks {
				switch r := m.run(b, fr); {
				case r < 0 && r != fellThrough:
					return r
				case r > 0:
					return r - 1
				}
			}
		case opBreak:
			return int(in.n)
		case opDot:
			src, key := get(fr, in.a), get(fr, in.b)
			if src == nil || key == nil {
				return m.fail(in, errUndefinedOperand)
			}
			v := dot(src.Value, key)
			if v == nil {
				return 0
			}
			fr[in.target] = v
		case opLen:
			src := get(fr, in.a)
			if src == nil {
				return m.fail(in, errUndefinedOperand)
			}
			n, ok := length(src.Value)
			if !ok {
				return m.fail(in, fmt.Errorf("regoplan: length of a %s", ast.ValueName(src.Value)))
			}
			fr[in.target] = ast.InternedTerm(n)
		case opScan:
			if r := m.scan(in, fr); r != fellThrough {
				return r
			}
		case opNot:
			switch r := m.run(in.body, fr); {
			case r == fellThrough:
				return 0 // the negated block held: not is undefined
			case r == 0:
				// the negated block was undefined: not holds
			case r < 0:
				return r
			default:
				return r - 1
			}
		case opAssignInt:
			fr[in.target] = ast.InternedTerm(int(in.n))
		case opAssignVar:
			fr[in.target] = get(fr, in.a)
		case opAssignVarOnce:
			v := get(fr, in.a)
			if cur := fr[in.target]; cur != nil {
				if v == nil || cur.Value.Compare(v.Value) != 0 {
					return m.fail(in, fmt.Errorf("%w: a complete rule or function gave two values", ErrConflict))
				}
				break
			}
			fr[in.target] = v
		case opReset:
			fr[in.target] = nil
		case opMakeConst:
			fr[in.target] = in.a.term
		case opMakeArray:
			fr[in.target] = ast.NewTerm(ast.NewArrayWithCapacity(int(in.n)))
		case opMakeObject:
			fr[in.target] = ast.NewTerm(ast.NewObject())
		case opMakeSet:
			fr[in.target] = ast.NewTerm(ast.NewSet())
		case opEqual, opNotEqual:
			a, b := get(fr, in.a), get(fr, in.b)
			if a == nil || b == nil {
				return m.fail(in, errUndefinedOperand)
			}
			if (a.Value.Compare(b.Value) == 0) != (in.op == opEqual) {
				return 0
			}
		case opIsArray:
			if v := get(fr, in.a); v == nil || !isArray(v.Value) {
				return 0
			}
		case opIsObject:
			if v := get(fr, in.a); v == nil || !isObject(v.Value) {
				return 0
			}
		case opIsSet:
			if v := get(fr, in.a); v == nil || !isSet(v.Value) {
				return 0
			}
		case opIsDefined:
			if fr[in.a.local] == nil {
				return 0
			}
		case opIsUndefined:
			if fr[in.a.local] != nil {
				return 0
			}
		case opArrayAppend:
			arr, v := fr[in.target], get(fr, in.b)
			a, ok := value[*ast.Array](arr)
			if !ok || v == nil {
				return m.fail(in, errors.New("regoplan: append to a non-array or of an undefined value"))
			}
			*a = *a.Append(v) // in place: every local holding the array sees it
		case opObjectInsert, opObjectInsertOnce:
			obj, k, v := fr[in.target], get(fr, in.a), get(fr, in.b)
			o, ok := value[ast.Object](obj)
			if !ok || k == nil || v == nil {
				return m.fail(in, errors.New("regoplan: insert into a non-object or of an undefined key or value"))
			}
			if in.op == opObjectInsertOnce {
				if cur := o.Get(k); cur != nil {
					if cur.Value.Compare(v.Value) != 0 {
						return m.fail(in, fmt.Errorf("%w: object key %v", ErrConflict, k))
					}
					break
				}
			}
			o.Insert(k, v)
		case opSetAdd:
			set, v := fr[in.target], get(fr, in.b)
			s, ok := value[ast.Set](set)
			if !ok || v == nil {
				return m.fail(in, errors.New("regoplan: add to a non-set or of an undefined value"))
			}
			s.Add(v)
		case opResultSetAdd:
			v := fr[in.a.local]
			if v == nil {
				return m.fail(in, errUndefinedOperand)
			}
			m.results = append(m.results, v)
		default:
			return m.fail(in, fmt.Errorf("regoplan: unknown opcode %d", in.op))
		}
	}
	return fellThrough
}

// value is t's value as a T.
func value[T ast.Value](t *ast.Term) (T, bool) {
	var zero T
	if t == nil {
		return zero, false
	}
	v, ok := t.Value.(T)
	return v, ok
}

func isArray(v ast.Value) bool  { _, ok := v.(*ast.Array); return ok }
func isObject(v ast.Value) bool { _, ok := v.(ast.Object); return ok }
func isSet(v ast.Value) bool    { _, ok := v.(ast.Set); return ok }

// dot looks key up in v: an object's value, an array's element, a set's
// member; nil when absent or when v is a scalar.
func dot(v ast.Value, key *ast.Term) *ast.Term {
	switch c := v.(type) {
	case ast.Object:
		return c.Get(key)
	case *ast.Array:
		n, ok := key.Value.(ast.Number)
		if !ok {
			return nil
		}
		i, ok := n.Int()
		if !ok || i < 0 || i >= c.Len() {
			return nil
		}
		return c.Elem(i)
	case ast.Set:
		if c.Contains(key) {
			return key
		}
	}
	return nil
}

// length is the number of elements of a collection, or of bytes of a
// string (as OPA's WebAssembly counts them).
func length(v ast.Value) (int, bool) {
	switch c := v.(type) {
	case *ast.Array:
		return c.Len(), true
	case ast.Object:
		return c.Len(), true
	case ast.Set:
		return c.Len(), true
	case ast.String:
		return len(c), true
	}
	return 0, false
}

// scan runs the body of a ScanStmt for each element of its source, in
// OPA's order (arrays by index, objects and sets by sorted key). A scalar
// source runs it never.
func (m *machine) scan(in *instr, fr []*ast.Term) int {
	src := fr[in.a.local]
	if src == nil {
		return m.fail(in, errUndefinedOperand)
	}
	if m.depth == len(m.scanners) {
		sc := &scanner{m: m}
		sc.pair, sc.member = sc.step, sc.stepMember // bound once per scanner
		m.scanners = append(m.scanners, sc)
	}
	sc := m.scanners[m.depth]
	m.depth++
	sc.in, sc.fr, sc.result = in, fr, fellThrough
	switch c := src.Value.(type) {
	case *ast.Array:
		for i := range c.Len() {
			if sc.step(ast.InternedTerm(i), c.Elem(i)) {
				break
			}
		}
	case ast.Object:
		c.Until(sc.pair)
	case ast.Set:
		c.Until(sc.member)
	}
	m.depth--
	r := sc.result
	sc.in, sc.fr = nil, nil
	return r
}

// scanner is the state of one ScanStmt being run; the machine keeps one per
// nesting depth, so that a scan allocates nothing.
type scanner struct {
	m      *machine
	in     *instr
	fr     []*ast.Term
	result int
	pair   func(k, v *ast.Term) bool
	member func(t *ast.Term) bool
}

// step runs the body for one element and says whether to stop. A break
// out of 0 continues with the next element, of 1 leaves the scan, of n > 1
// leaves n-2 blocks around the scan.
func (sc *scanner) step(k, v *ast.Term) bool {
	sc.fr[sc.in.key], sc.fr[sc.in.value] = k, v
	switch r := sc.m.run(sc.in.body, sc.fr); {
	case r == fellThrough || r == 0:
		return false
	case r == 1:
		return true
	case r < 0:
		sc.result = r
		return true
	default:
		sc.result = r - 2
		return true
	}
}

func (sc *scanner) stepMember(t *ast.Term) bool { return sc.step(t, t) }

// call calls a planned function. ok is false when the run failed; a nil
// value is an undefined result.
func (m *machine) call(in *instr, fr []*ast.Term) (*ast.Term, bool) {
	fn := in.fn
	if fn.memo >= 0 && m.memo[fn.memo].done {
		return m.memo[fn.memo].value, true
	}
	sp := m.sp
	nfr := m.frame(fn.nlocals)
	for i, p := range fn.params {
		v := get(fr, in.args[i])
		if v == nil {
			m.sp = sp
			m.fail(in, errUndefinedOperand)
			return nil, false
		}
		nfr[p] = v
	}
	var v *ast.Term
	done := false
	for _, b := range fn.blocks {
		switch r := m.run(b, nfr); r {
		case failed:
			m.sp = sp
			return nil, false
		case returned:
			v, done = m.ret, true
		}
		if done {
			break
		}
	}
	if !done {
		v = nfr[fn.ret]
	}
	clear(nfr)
	m.sp = sp
	if fn.memo >= 0 {
		m.memo[fn.memo] = memoEntry{done: true, value: v}
	}
	return v, true
}

// callBuiltin calls one of OPA's built-ins as topdown does: an error from
// the built-in makes the call undefined, unless it halts evaluation.
func (m *machine) callBuiltin(in *instr, fr []*ast.Term) (*ast.Term, int) {
	args := m.args[:len(in.args)]
	for i, a := range in.args {
		v := get(fr, a)
		if v == nil {
			return nil, m.fail(in, errUndefinedOperand)
		}
		args[i] = v
	}
	m.out = nil
	m.bctx.Location = nil
	var err error
	if in.bi.relation {
		// Every output, in order, as one array the plan scans.
		m.outs = ast.NewArray()
		err = in.bi.f(m.bctx, args, m.outsFn)
		m.out, m.outs = ast.NewTerm(m.outs), nil
	} else {
		err = in.bi.f(m.bctx, args, m.outFn)
	}
	clear(args)
	if err != nil {
		var halt topdown.Halt
		if errors.As(err, &halt) {
			return nil, m.fail(in, halt.Err)
		}
		return nil, 0
	}
	if m.out == nil {
		return nil, 0
	}
	return m.out, fellThrough
}

func (m *machine) cancelled() bool {
	if m.cancel != nil && m.cancel.Cancelled() {
		return true
	}
	return m.bctx.Context != nil && m.bctx.Context.Err() != nil
}

func (m *machine) cancelError() error {
	if m.bctx.Context != nil && m.bctx.Context.Err() != nil {
		return fmt.Errorf("regoplan: %w", m.bctx.Context.Err())
	}
	return errors.New("regoplan: evaluation cancelled")
}
