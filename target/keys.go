package target

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// A KeyDist draws the key of one request. Implementations hold no mutable
// state, so one KeyDist may serve many goroutines, each with its own r.
type KeyDist interface {
	Key(r *rand.Rand) string
}

// KeySpace is the set of keys seeded into the table: key i, for i in
// [0, Count), is fmt.Sprintf(Pattern, i). Pattern must hold exactly one
// integer verb, as in "item-%06d".
type KeySpace struct {
	Pattern string
	Count   int
}

// Key returns key i of the space.
func (ks KeySpace) Key(i int) string { return fmt.Sprintf(ks.Pattern, i) }

// Validate reports whether ks can produce keys: Count must be positive and
// Pattern must format an integer without complaint.
func (ks KeySpace) Validate() error {
	if ks.Count < 1 {
		return fmt.Errorf("key space: count %d must be at least 1", ks.Count)
	}
	if k := ks.Key(0); strings.Contains(k, "%!") {
		return fmt.Errorf("key space: pattern %q does not format one integer (got %q)", ks.Pattern, k)
	}
	return nil
}

type uniformDist struct{ ks KeySpace }

// NewUniform returns a KeyDist drawing every key of ks with equal
// probability. It panics if ks.Count < 1; check with [KeySpace.Validate]
// first when ks comes from user input.
func NewUniform(ks KeySpace) KeyDist {
	if ks.Count < 1 {
		panic(fmt.Sprintf("target: NewUniform: key space count %d must be at least 1", ks.Count))
	}
	return uniformDist{ks}
}

func (d uniformDist) Key(r *rand.Rand) string { return d.ks.Key(r.IntN(d.ks.Count)) }

type zipfDist struct {
	ks       KeySpace
	exponent float64
}

// NewZipf returns a KeyDist drawing key k of ks with probability
// proportional to (1+k)^-exponent, so key 0 is the hottest. The exponent
// must be greater than 1 (math/rand/v2's Zipf with v = 1).
func NewZipf(ks KeySpace, exponent float64) (KeyDist, error) {
	if err := ks.Validate(); err != nil {
		return nil, fmt.Errorf("zipf: %w", err)
	}
	if !(exponent > 1) || math.IsInf(exponent, 0) {
		return nil, fmt.Errorf("zipf: exponent %v must be greater than 1", exponent)
	}
	return zipfDist{ks: ks, exponent: exponent}, nil
}

// Key builds a rand.Zipf bound to r on every call: a Zipf keeps its source,
// and a KeyDist must not hold per-goroutine state. Building one costs a few
// logarithms, small next to an HTTP request.
func (d zipfDist) Key(r *rand.Rand) string {
	z := rand.NewZipf(r, d.exponent, 1, uint64(d.ks.Count-1))
	return d.ks.Key(int(z.Uint64()))
}

type missingDist struct{ prefix string }

// NewMissing returns a KeyDist of random keys that are not in the table:
// prefix followed by 16 random hex digits. They never collide with a
// [KeySpace] whose keys do not start with prefix.
func NewMissing(prefix string) KeyDist { return missingDist{prefix} }

func (d missingDist) Key(r *rand.Rand) string {
	b := make([]byte, 0, len(d.prefix)+16)
	b = append(b, d.prefix...)
	return string(appendHex64(b, r.Uint64()))
}

// Weighted is one part of a [NewMix]: Dist is chosen with probability
// Weight over the sum of all weights.
type Weighted struct {
	Weight float64
	Dist   KeyDist
}

type mixDist struct {
	cumulative []float64 // running sums of the weights
	dists      []KeyDist
}

// NewMix returns a KeyDist that picks one of parts by weight, then draws
// from it. Weights must be positive and finite, and Dist non-nil.
func NewMix(parts ...Weighted) (KeyDist, error) {
	if len(parts) == 0 {
		return nil, errors.New("key mix: no parts")
	}
	d := mixDist{}
	sum := 0.0
	for i, p := range parts {
		if !(p.Weight > 0) || math.IsInf(p.Weight, 0) {
			return nil, fmt.Errorf("key mix: part %d: weight %v must be positive and finite", i+1, p.Weight)
		}
		if p.Dist == nil {
			return nil, fmt.Errorf("key mix: part %d: nil key distribution", i+1)
		}
		sum += p.Weight
		d.cumulative = append(d.cumulative, sum)
		d.dists = append(d.dists, p.Dist)
	}
	return d, nil
}

func (d mixDist) Key(r *rand.Rand) string { return d.KeySeq(r, -1) }

// KeySeq picks a part by weight and draws from it, by sequence when the
// part is a [SequenceDist] and n >= 0.
func (d mixDist) KeySeq(r *rand.Rand, n int64) string {
	x := r.Float64() * d.cumulative[len(d.cumulative)-1]
	i := len(d.dists) - 1
	for j, c := range d.cumulative {
		if x < c {
			i = j
			break
		}
	}
	if n >= 0 {
		return KeyAt(d.dists[i], r, n)
	}
	return d.dists[i].Key(r)
}

// A SequenceDist is a KeyDist whose key depends on the request's number in
// its class's schedule rather than on chance. [KeyAt] prefers it.
type SequenceDist interface {
	KeyDist
	KeySeq(r *rand.Rand, n int64) string
}

// KeyAt draws the key of request n from d: by sequence when d is a
// [SequenceDist], else at random from r.
func KeyAt(d KeyDist, r *rand.Rand, n int64) string {
	if s, ok := d.(SequenceDist); ok {
		return s.KeySeq(r, n)
	}
	return d.Key(r)
}

type sequentialDist struct{ ks KeySpace }

// NewSequential returns a KeyDist that walks ks in order: request n gets
// key n mod Count, as a crawler enumerating ids would. Drawn with Key (no
// request number), it is uniform.
func NewSequential(ks KeySpace) (KeyDist, error) {
	if err := ks.Validate(); err != nil {
		return nil, fmt.Errorf("sequential: %w", err)
	}
	return sequentialDist{ks}, nil
}

func (d sequentialDist) Key(r *rand.Rand) string { return d.ks.Key(r.IntN(d.ks.Count)) }

func (d sequentialDist) KeySeq(_ *rand.Rand, n int64) string {
	return d.ks.Key(int(n % int64(d.ks.Count)))
}

type hotKeyDist struct {
	ks       KeySpace
	hot      int
	fraction float64
}

// NewHotKey returns a KeyDist that sends fraction (0..1) of draws to the
// first hot keys of ks, uniformly among them, and the rest uniformly over
// all of ks: the shape of traffic that overloads one partition.
func NewHotKey(ks KeySpace, hot int, fraction float64) (KeyDist, error) {
	if err := ks.Validate(); err != nil {
		return nil, fmt.Errorf("hot key: %w", err)
	}
	if hot < 1 || hot > ks.Count {
		return nil, fmt.Errorf("hot key: %d hot keys must be between 1 and the %d keys", hot, ks.Count)
	}
	if !(fraction >= 0 && fraction <= 1) {
		return nil, fmt.Errorf("hot key: fraction %v must be between 0 and 1", fraction)
	}
	return hotKeyDist{ks: ks, hot: hot, fraction: fraction}, nil
}

func (d hotKeyDist) Key(r *rand.Rand) string {
	if r.Float64() < d.fraction {
		return d.ks.Key(r.IntN(d.hot))
	}
	return d.ks.Key(r.IntN(d.ks.Count))
}
