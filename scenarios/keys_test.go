package scenarios

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestKeyDist(t *testing.T) {
	table := Table{Items: ItemSeed{Count: 100, KeyPattern: "item-%03d", SizeBytes: 10}}
	tests := []struct {
		name        string
		keys        Keys
		wantMissing float64 // share of keys drawn that are missing ids
		wantHot     float64 // share of seeded keys that are item-000; 0: not checked
	}{
		{"zero value is uniform", Keys{}, 0, 0.01},
		{"uniform", Keys{Distribution: DistUniform}, 0, 0.01},
		{"zipf", Keys{Distribution: DistZipf, Exponent: 1.2}, 0, 0},
		{"zipf with misses", Keys{Distribution: DistZipf, Exponent: 1.2, MissingFraction: 0.02}, 0.02, 0},
		{"uniform mostly missing", Keys{Distribution: DistUniform, MissingFraction: 0.95}, 0.95, 0},
		{"missing", Keys{Distribution: DistMissing, MissingFraction: 1}, 1, 0},
		{"all missing by fraction", Keys{Distribution: DistUniform, MissingFraction: 1}, 1, 0},
	}
	const draws = 20000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dist, err := Class{Name: "c", Keys: tt.keys}.KeyDist(table)
			if err != nil {
				t.Fatalf("KeyDist: %v", err)
			}

			r := rand.New(rand.NewPCG(1, 2))
			missing, hot, seeded := 0, 0, 0
			for range draws {
				key := dist.Key(r)
				switch {
				case strings.HasPrefix(key, MissingPrefix):
					missing++
				case isSeeded(key, table.Items.Count):
					seeded++
					if key == "item-000" {
						hot++
					}
				default:
					t.Fatalf("key %q is neither seeded nor missing", key)
				}
			}

			if got := float64(missing) / draws; math.Abs(got-tt.wantMissing) > 0.01 {
				t.Errorf("missing share: got %.3f, want %.3f", got, tt.wantMissing)
			}
			if tt.wantHot > 0 {
				if got := float64(hot) / float64(seeded); math.Abs(got-tt.wantHot) > 0.005 {
					t.Errorf("share of item-000: got %.4f, want %.4f", got, tt.wantHot)
				}
			}
		})
	}
}

// isSeeded reports whether key is one of the count keys item-000...
func isSeeded(key string, count int) bool {
	var i int
	if _, err := fmt.Sscanf(key, "item-%03d", &i); err != nil {
		return false
	}
	return i >= 0 && i < count && fmt.Sprintf("item-%03d", i) == key
}

func TestKeyDistZipfIsSkewed(t *testing.T) {
	table := Table{Items: ItemSeed{Count: 1000, KeyPattern: "k%d", SizeBytes: 10}}
	dist, err := Class{Keys: Keys{Distribution: DistZipf, Exponent: 1.2}}.KeyDist(table)
	if err != nil {
		t.Fatalf("KeyDist: %v", err)
	}

	r := rand.New(rand.NewPCG(3, 4))
	top := 0
	const draws = 10000
	for range draws {
		if k := dist.Key(r); len(k) <= 2 { // k0 .. k9
			top++
		}
	}
	// With s = 1.2 over 1000 keys the ten hottest take well over half the
	// draws; a uniform draw would give them 1 %.
	if got := float64(top) / draws; got < 0.5 {
		t.Errorf("share of the 10 hottest keys: got %.3f, want more than 0.5", got)
	}
}

func TestKeyDistErrors(t *testing.T) {
	good := Table{Items: ItemSeed{Count: 10, KeyPattern: "k%d"}}
	tests := []struct {
		name  string
		keys  Keys
		table Table
		want  string
	}{
		{"no items", Keys{}, Table{Items: ItemSeed{KeyPattern: "k%d"}}, "count 0"},
		{"zipf exponent 1", Keys{Distribution: DistZipf, Exponent: 1}, good, "greater than 1"},
		{"unknown distribution", Keys{Distribution: "gauss"}, good, `unknown distribution "gauss"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Class{Name: "c", Keys: tt.keys}.KeyDist(tt.table)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
