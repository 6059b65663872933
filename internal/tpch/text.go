package tpch

import "strings"

// poolSize is the length of the text pool comments are cut from. The
// specification asks for a pool of at least 300 MB; 2 MiB keeps generator
// construction fast (a few milliseconds) while still giving each comment one
// of two million starting points.
const poolSize = 1 << 21

// weighted expands a weighted word list so a uniform index picks by weight.
func weighted(ws []word) []string {
	var out []string
	for _, w := range ws {
		for range w.weight {
			out = append(out, w.text)
		}
	}
	return out
}

// grammar holds the expanded word lists of the text grammar.
type grammar struct {
	nouns, verbs, adjectives, adverbs, prepositions, auxiliaries, terminators []string
}

func newGrammar() grammar {
	return grammar{
		nouns:        weighted(nouns),
		verbs:        weighted(verbs),
		adjectives:   weighted(adjectives),
		adverbs:      weighted(adverbs),
		prepositions: weighted(prepositions),
		auxiliaries:  weighted(auxiliaries),
		terminators:  weighted(terminators),
	}
}

func (g *grammar) word(r *rng, list []string, b *strings.Builder) {
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(list[r.pick(len(list))])
}

// nounPhrase: noun | adjective noun | adjective, adjective noun |
// adverb adjective noun.
func (g *grammar) nounPhrase(r *rng, b *strings.Builder) {
	switch n := r.between(0, 49); {
	case n < 10:
	case n < 30:
		g.word(r, g.adjectives, b)
	case n < 40:
		g.word(r, g.adjectives, b)
		b.WriteByte(',')
		g.word(r, g.adjectives, b)
	default:
		g.word(r, g.adverbs, b)
		g.word(r, g.adjectives, b)
	}
	g.word(r, g.nouns, b)
}

// verbPhrase: verb | auxiliary verb | verb adverb | auxiliary verb adverb.
func (g *grammar) verbPhrase(r *rng, b *strings.Builder) {
	switch n := r.between(0, 71); {
	case n < 30:
		g.word(r, g.verbs, b)
	case n < 31:
		g.word(r, g.auxiliaries, b)
		g.word(r, g.verbs, b)
	case n < 71:
		g.word(r, g.verbs, b)
		g.word(r, g.adverbs, b)
	default:
		g.word(r, g.auxiliaries, b)
		g.word(r, g.verbs, b)
		g.word(r, g.adverbs, b)
	}
}

// prepositionalPhrase: preposition the noun-phrase.
func (g *grammar) prepositionalPhrase(r *rng, b *strings.Builder) {
	g.word(r, g.prepositions, b)
	b.WriteString(" the")
	g.nounPhrase(r, b)
}

// sentence appends one sentence of the five forms the grammar allows.
func (g *grammar) sentence(r *rng, b *strings.Builder) {
	g.nounPhrase(r, b)
	switch r.between(0, 10) {
	case 0, 1, 2:
		g.verbPhrase(r, b)
	case 3, 4, 5:
		g.verbPhrase(r, b)
		g.prepositionalPhrase(r, b)
	case 6, 7, 8:
		g.verbPhrase(r, b)
		g.nounPhrase(r, b)
	case 9:
		g.prepositionalPhrase(r, b)
		g.verbPhrase(r, b)
		g.nounPhrase(r, b)
	default:
		g.prepositionalPhrase(r, b)
		g.verbPhrase(r, b)
		g.prepositionalPhrase(r, b)
	}
	b.WriteString(g.terminators[r.pick(len(g.terminators))])
}

// newPool generates the text pool: sentences of the grammar, one after
// another, cut to poolSize.
func newPool(seed int64) string {
	g := newGrammar()
	r := newRNG(seed, streamText, 0)
	var b strings.Builder
	b.Grow(poolSize + 256)
	for b.Len() < poolSize {
		g.sentence(&r, &b)
	}
	return b.String()[:poolSize]
}

// text returns a text string [lo, hi] (clause 4.2.2.10): a piece of the pool
// of uniformly random length and offset. It shares the pool's memory, so it
// costs no allocation.
func (g *Generator) text(r *rng, lo, hi int) string {
	n := int(r.between(int64(lo), int64(hi)))
	off := int(r.between(0, int64(len(g.pool)-n)))
	return g.pool[off : off+n]
}

// vstringAlphabet is the 64 symbols random v-strings are drawn from.
const vstringAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,."

// vstring returns a random v-string [lo, hi] (clause 4.2.2.7): uniformly
// random length, each character drawn from 64 symbols.
func vstring(r *rng, lo, hi int) string {
	n := int(r.between(int64(lo), int64(hi)))
	b := make([]byte, n)
	for i := range b {
		b[i] = vstringAlphabet[r.next()>>58]
	}
	return string(b)
}

// complaint overwrites part of a supplier comment with "Customer", some of
// the comment, then "Complaints" or "Recommends" (clause 4.2.3, S_COMMENT),
// both at random positions, keeping its length. LIKE 'Customer%Complaints'
// is case-sensitive and the grammar has no capitalised "Customer", so only
// these suppliers match.
func complaint(r *rng, comment, what string) string {
	const customer = "Customer"
	room := len(comment) - len(customer) - len(what) // comments are >= 25 bytes
	start := int(r.between(0, int64(room)))
	gap := int(r.between(0, int64(room-start)))
	b := []byte(comment)
	copy(b[start:], customer)
	copy(b[start+len(customer)+gap:], what)
	return string(b)
}
