package harness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrBadMerge marks a set of result folders that cannot be merged as
// asked: the same folder or shard twice, shards of different splits, or
// an output folder that is one of the inputs.
var ErrBadMerge = errors.New("refused")

// shardSet is the slices of a run that one result covers. A whole run is
// the one slice of one.
type shardSet struct {
	have []bool // by index from 0; len is the shard count
}

// parseShardSet reads a summary's shard label: "" for a whole run, "i/N"
// for one shard, "i,j,.../N" for a merge of some of them.
func parseShardSet(label string) (shardSet, error) {
	if label == "" {
		return shardSet{have: []bool{true}}, nil
	}
	list, count, ok := strings.Cut(label, "/")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n < 1 {
		return shardSet{}, fmt.Errorf("shard %q: want i/N", label)
	}
	s := shardSet{have: make([]bool, n)}
	for _, f := range strings.Split(list, ",") {
		i, err := strconv.Atoi(f)
		if err != nil || i < 1 || i > n || s.have[i-1] {
			return shardSet{}, fmt.Errorf("shard %q: want i/N with 1 <= i <= N, each i once", label)
		}
		s.have[i-1] = true
	}
	return s, nil
}

// add takes in the shards of o, refusing a different split or a shard
// already held.
func (s *shardSet) add(o shardSet) error {
	if len(s.have) != len(o.have) {
		return fmt.Errorf("%w: it holds %s, the folders before it %s",
			ErrBadMerge, splitName(len(o.have)), splitName(len(s.have)))
	}
	for i, h := range o.have {
		if h && s.have[i] {
			return fmt.Errorf("%w: shard %d/%d is in two of the folders", ErrBadMerge, i+1, len(s.have))
		}
		s.have[i] = s.have[i] || h
	}
	return nil
}

func splitName(n int) string {
	if n == 1 {
		return "a whole run"
	}
	return fmt.Sprintf("shards of a run split %d ways", n)
}

// label is the set as summary.json names it: "" when every shard is
// there (the merge is the whole run), else the shards it holds.
func (s shardSet) label() string {
	if len(s.missing()) == 0 {
		return ""
	}
	var held []string
	for i, h := range s.have {
		if h {
			held = append(held, strconv.Itoa(i+1))
		}
	}
	return strings.Join(held, ",") + "/" + strconv.Itoa(len(s.have))
}

// missing returns the shards not held, numbered from 1.
func (s shardSet) missing() []int {
	var out []int
	for i, h := range s.have {
		if !h {
			out = append(out, i+1)
		}
	}
	return out
}

// checkMergePaths refuses the same input folder twice and an output
// folder that is an input or lies inside one.
func checkMergePaths(dirs []string, out string) error {
	abs := make([]string, len(dirs))
	for i, d := range dirs {
		abs[i] = resolvePath(d)
		if j := slices.Index(abs[:i], abs[i]); j >= 0 {
			return fmt.Errorf("%w: %s and %s are the same folder", ErrBadMerge, dirs[j], d)
		}
	}
	if out == "" {
		return nil
	}
	o := resolvePath(out)
	for i, a := range abs {
		rel, err := filepath.Rel(a, o)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%w: the output folder %s is or lies inside the input %s, which it could overwrite",
				ErrBadMerge, out, dirs[i])
		}
	}
	return nil
}

// resolvePath is p made absolute, with the symbolic links of its longest
// existing prefix resolved, so two spellings of one folder compare equal.
func resolvePath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	rest := ""
	for dir := a; ; dir = filepath.Dir(dir) {
		if _, err := os.Lstat(dir); err == nil {
			if r, err := filepath.EvalSymlinks(dir); err == nil {
				return filepath.Join(r, rest)
			}
			return a
		}
		if parent := filepath.Dir(dir); parent == dir {
			return a
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}
