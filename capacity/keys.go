package capacity

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"slices"
	"sync"
)

// keyRef names one item: a table and its primary key attributes.
type keyRef struct {
	table string
	key   map[string]json.RawMessage
}

// keyString returns a canonical form of an item's key, equal for equal keys
// however their JSON was spaced.
func keyString(key map[string]json.RawMessage) string {
	var names [2]string // a key has one or two attributes
	all := names[:0]
	for name := range key {
		all = append(all, name)
	}
	slices.Sort(all)

	var b bytes.Buffer
	for _, name := range all {
		b.WriteString(name)
		b.WriteByte(0)
		if _, _, compact := compactScalar(key[name]); compact {
			// Already compact: json.Compact would copy it unchanged.
			b.Write(key[name])
		} else if json.Compact(&b, key[name]) != nil {
			b.Write(key[name])
		}
		b.WriteByte(0)
	}
	return b.String()
}

// keyLockStripes is how many locks the items are spread over.
const keyLockStripes = 64

// keyLocks serialises the endpoint's read-size-write sequences on the same
// item, so that the old and new sizes it charges for belong to the write it
// charges them to. Items share a fixed set of striped locks.
type keyLocks struct {
	stripes [keyLockStripes]sync.RWMutex
}

// lock takes the locks of refs, exclusively when exclusive is set, in stripe
// order so that overlapping calls cannot deadlock, and returns the unlock.
func (l *keyLocks) lock(exclusive bool, refs ...keyRef) (unlock func()) {
	var idx []int
	for _, r := range refs {
		if r.key == nil {
			continue
		}
		h := fnv.New32a()
		h.Write([]byte(r.table))
		h.Write([]byte{0})
		h.Write([]byte(keyString(r.key)))
		idx = append(idx, int(h.Sum32()%keyLockStripes))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)

	for _, i := range idx {
		if exclusive {
			l.stripes[i].Lock()
		} else {
			l.stripes[i].RLock()
		}
	}
	return func() {
		for _, i := range idx {
			if exclusive {
				l.stripes[i].Unlock()
			} else {
				l.stripes[i].RUnlock()
			}
		}
	}
}
