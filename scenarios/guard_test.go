package scenarios

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Hostile nesting is refused before the parser, whose memory grows with
// the square of the depth (this file once took over 10 GB), sees it.
func TestParseRefusesDeepNesting(t *testing.T) {
	const n = 100_000
	tests := []struct {
		name      string
		src       string
		line, col int
	}{
		{"flow lists", "name: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n", 1, 7 + MaxNesting - 1},
		{"flow mappings", "name: " + strings.Repeat("{a: ", n) + "1" + strings.Repeat("}", n) + "\n",
			1, 7 + 4*(MaxNesting-1)},
		// The first "-" shares name:'s column, so it adds no level here.
		{"block lists on one line", "name:\n" + strings.Repeat("- ", n) + "x\n", 2, 2*MaxNesting + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Parse("deep.yaml", []byte(tt.src))
			runtime.ReadMemStats(&after)

			p := problems(t, err)
			if len(p) != 1 || p[0].Line != tt.line || p[0].Column != tt.col ||
				!strings.Contains(p[0].Msg, "nest more than 64 levels") {
				t.Errorf("got %v, want one nesting problem at %d:%d", err, tt.line, tt.col)
			}
			// The lexer takes about 300 bytes per byte of this input; the
			// parser took gigabytes.
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(1000*len(tt.src)); got > limit {
				t.Errorf("allocated %d bytes for a %d-byte file, want at most %d",
					got, len(tt.src), limit)
			}
		})
	}
}

func TestNestingLimitIsInclusive(t *testing.T) {
	// name: takes one level, so MaxNesting-1 brackets reach the limit.
	ok := "name: " + strings.Repeat("[", MaxNesting-1) + strings.Repeat("]", MaxNesting-1) + "\n"
	if _, err := Parse("ok.yaml", []byte(ok)); err == nil || strings.Contains(err.Error(), "nest") {
		t.Errorf("got %v, want a type problem, not a nesting one", err)
	}
	indented := "a:\n"
	for i := 1; i < MaxNesting; i++ {
		indented += strings.Repeat("  ", i) + "a:\n"
	}
	if _, err := Parse("ok.yaml", []byte(indented)); err != nil && strings.Contains(err.Error(), "nest") {
		t.Errorf("%d indented levels: %v", MaxNesting, err)
	}
	deeper := indented + strings.Repeat("  ", MaxNesting) + "a: 1\n"
	wantProblem(t, strings.ReplaceAll(deeper, "ok", "bad"), MaxNesting+1, 2*MaxNesting+1, "",
		"nest more than 64 levels")
}

func TestParseRefusesLargeFiles(t *testing.T) {
	src := base + "# " + strings.Repeat("x", MaxFileBytes) + "\n"
	_, err := Parse("big.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "big.yaml: the file is larger than the 1048576 bytes") {
		t.Errorf("Parse: got %v, want a size error", err)
	}

	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "is larger than") {
		t.Errorf("Load: got %v, want a size error", err)
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "it is a directory") {
		t.Errorf("got %v, want one saying it is a directory", err)
	}

	// A bare built-in name still finds the built-in beside a folder of
	// that name, such as one holding its results.
	t.Chdir(dir)
	if err := os.Mkdir("retry-storm", 0o755); err != nil {
		t.Fatal(err)
	}
	if s, err := Load("retry-storm"); err != nil || s.File != BuiltinPrefix+"retry-storm.yaml" {
		t.Errorf("Load(retry-storm) beside a folder of that name: %v", err)
	}
	if _, err := Load("./retry-storm"); err == nil || !strings.Contains(err.Error(), "it is a directory") {
		t.Errorf("Load(./retry-storm): got %v, want one saying it is a directory", err)
	}
}
