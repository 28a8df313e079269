package scenarios

import (
	"fmt"

	"github.com/abusesim/abusesim/target"
)

// KeyDist builds the distribution the class draws request keys from: its
// Distribution over the table's seeded items (KeySpace{KeyPattern, Count}),
// mixed with random ids that are not in the table (prefixed MissingPrefix)
// at MissingFraction. A zero Keys is uniform with no missing ids.
func (c Class) KeyDist(table Table) (target.KeyDist, error) {
	k := c.Keys
	missing := target.NewMissing(MissingPrefix)
	if k.Distribution == DistMissing || k.MissingFraction >= 1 {
		return missing, nil
	}

	ks := target.KeySpace{Pattern: table.Items.KeyPattern, Count: table.Items.Count}
	if err := ks.Validate(); err != nil {
		return nil, fmt.Errorf("class %q: keys: %w", c.Name, err)
	}
	var seeded target.KeyDist
	switch k.Distribution {
	case DistUniform, "":
		seeded = target.NewUniform(ks)
	case DistZipf:
		z, err := target.NewZipf(ks, k.Exponent)
		if err != nil {
			return nil, fmt.Errorf("class %q: keys: %w", c.Name, err)
		}
		seeded = z
	case DistSequential:
		sq, err := target.NewSequential(ks)
		if err != nil {
			return nil, fmt.Errorf("class %q: keys: %w", c.Name, err)
		}
		seeded = sq
	case DistHotKey:
		h, err := target.NewHotKey(ks, k.HotKeys, k.HotFraction)
		if err != nil {
			return nil, fmt.Errorf("class %q: keys: %w", c.Name, err)
		}
		seeded = h
	default:
		return nil, fmt.Errorf("class %q: keys: unknown distribution %q", c.Name, k.Distribution)
	}

	if k.MissingFraction <= 0 {
		return seeded, nil
	}
	mix, err := target.NewMix(
		target.Weighted{Weight: 1 - k.MissingFraction, Dist: seeded},
		target.Weighted{Weight: k.MissingFraction, Dist: missing},
	)
	if err != nil {
		return nil, fmt.Errorf("class %q: keys: %w", c.Name, err)
	}
	return mix, nil
}
