package target

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

const draws = 100_000

func TestKeySpace(t *testing.T) {
	ks := KeySpace{Pattern: "item-%06d", Count: 10}
	if got, want := ks.Key(42), "item-000042"; got != want {
		t.Errorf("Key(42) = %q, want %q", got, want)
	}
	tests := []struct {
		name string
		ks   KeySpace
		want string // "" for valid
	}{
		{"valid", ks, ""},
		{"empty", KeySpace{Pattern: "item-%06d"}, "count 0"},
		{"no verb", KeySpace{Pattern: "item", Count: 3}, "does not format one integer"},
		{"string verb", KeySpace{Pattern: "item-%s", Count: 3}, "does not format one integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ks.Validate()
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

// frequencies draws n keys from d with a fixed seed.
func frequencies(t *testing.T, d KeyDist, n int) map[string]int {
	t.Helper()
	r := rand.New(rand.NewPCG(42, 7))
	counts := map[string]int{}
	for range n {
		counts[d.Key(r)]++
	}
	return counts
}

func TestUniform(t *testing.T) {
	ks := KeySpace{Pattern: "k%d", Count: 50}
	counts := frequencies(t, NewUniform(ks), draws)
	if len(counts) != ks.Count {
		t.Fatalf("drew %d distinct keys, want all %d", len(counts), ks.Count)
	}
	for i := range ks.Count {
		share := float64(counts[ks.Key(i)]) / draws
		if math.Abs(share-0.02) > 0.004 {
			t.Errorf("key %d share %.4f, want 0.02 ± 0.004", i, share)
		}
	}
}

func TestZipfSkew(t *testing.T) {
	ks := KeySpace{Pattern: "k%d", Count: 1000}
	for _, s := range []float64{1.1, 1.5, 2} {
		t.Run(fmt.Sprint("s=", s), func(t *testing.T) {
			d, err := NewZipf(ks, s)
			if err != nil {
				t.Fatal(err)
			}
			counts := frequencies(t, d, draws)

			// P(key 0) = 1 / sum over k of (1+k)^-s.
			norm := 0.0
			for k := range ks.Count {
				norm += math.Pow(float64(1+k), -s)
			}
			got, want := float64(counts["k0"])/draws, 1/norm
			if math.Abs(got-want) > 0.01 {
				t.Errorf("s=%v: hottest key share %.4f, want %.4f ± 0.01", s, got, want)
			}
			for key, n := range counts {
				if n > counts["k0"] {
					t.Errorf("s=%v: %s drawn %d times, more than k0 (%d)", s, key, n, counts["k0"])
				}
			}
			if n := len(counts); n > ks.Count {
				t.Errorf("s=%v: %d distinct keys from a space of %d", s, n, ks.Count)
			}
		})
	}
}

func TestMissingNeverHitsKeySpace(t *testing.T) {
	ks := KeySpace{Pattern: "item-%06d", Count: 1000}
	seeded := map[string]bool{}
	for i := range ks.Count {
		seeded[ks.Key(i)] = true
	}
	shape := regexp.MustCompile(`^missing-[0-9a-f]{16}$`)
	for key := range frequencies(t, NewMissing("missing-"), 10_000) {
		if seeded[key] || !shape.MatchString(key) {
			t.Fatalf("missing key %q: seeded %v, want an unseeded missing-<16 hex>", key, seeded[key])
		}
	}
}

func TestMixProportions(t *testing.T) {
	ks := KeySpace{Pattern: "item-%d", Count: 100}
	d, err := NewMix(Weighted{Weight: 3, Dist: NewUniform(ks)}, Weighted{Weight: 1, Dist: NewMissing("gone-")})
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for key, n := range frequencies(t, d, draws) {
		if strings.HasPrefix(key, "gone-") {
			missing += n
		}
	}
	if got := float64(missing) / draws; math.Abs(got-0.25) > 0.01 {
		t.Errorf("missing share %.4f, want 0.25 ± 0.01", got)
	}
}

func TestKeyDistErrors(t *testing.T) {
	ks := KeySpace{Pattern: "k%d", Count: 10}
	tests := []struct {
		name string
		make func() (KeyDist, error)
		want string
	}{
		{"zipf exponent 1", func() (KeyDist, error) { return NewZipf(ks, 1) }, "must be greater than 1"},
		{"zipf exponent NaN", func() (KeyDist, error) { return NewZipf(ks, math.NaN()) }, "must be greater than 1"},
		{"zipf empty space", func() (KeyDist, error) { return NewZipf(KeySpace{Pattern: "k%d"}, 1.2) }, "count 0"},
		{"mix empty", func() (KeyDist, error) { return NewMix() }, "no parts"},
		{"mix zero weight", func() (KeyDist, error) {
			return NewMix(Weighted{Weight: 1, Dist: NewUniform(ks)}, Weighted{Weight: 0, Dist: NewUniform(ks)})
		}, "part 2: weight 0 must be positive"},
		{"mix nil dist", func() (KeyDist, error) { return NewMix(Weighted{Weight: 1}) }, "part 1: nil key distribution"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.make()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, %v; want error containing %q", d, err, tt.want)
			}
		})
	}
}

func TestNewUniformPanicsOnEmptySpace(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewUniform of an empty key space did not panic")
		}
	}()
	NewUniform(KeySpace{Pattern: "k%d"})
}
