package charts

import (
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// run makes a realistic profile: n seconds of a legit and an attacker class
// whose latency and consumed RCU grow with the attack, throttling once the
// consumed RCU passes the provisioned 50.
func run(name string, n int, protected bool) Profile {
	var legit, attacker ClassSeries
	legit.Class, attacker.Class = "legit", "attacker"
	var c CapacitySeries
	c.ProvisionedRCU, c.ProvisionedWCU = 50, 20

	for i := range n {
		t := float64(i)
		attack := 100 + 300*t/float64(n)
		rcu := 9 + attack*0.5
		if protected {
			rcu = 9 + 5
		}
		slow := math.Max(0, rcu-50)

		for k, s := range []*ClassSeries{&legit, &attacker} {
			scale := float64(k + 1)
			s.T = append(s.T, t)
			s.P50Ms = append(s.P50Ms, scale*(2+slow*0.5))
			s.P90Ms = append(s.P90Ms, scale*(4+slow*2))
			s.P99Ms = append(s.P99Ms, scale*(8+slow*10))
		}
		c.T = append(c.T, t)
		c.ConsumedRCU = append(c.ConsumedRCU, math.Min(rcu, 50))
		c.ConsumedWCU = append(c.ConsumedWCU, 2)
		c.ReadThrottles = append(c.ReadThrottles, slow*2)
		c.WriteThrottles = append(c.WriteThrottles, 0)
	}
	legit.P99Ms[3] = math.NaN() // a second without responses

	cost := CostFigures{OnDemandUSD: 0.00021, ProvisionedUSD: 0.0000412, OnDemandUSDPerHour: 0.0378}
	if protected {
		cost = CostFigures{OnDemandUSD: 0.00002, ProvisionedUSD: 0.0000412, OnDemandUSDPerHour: 0.0036}
	}
	return Profile{Name: name, Classes: []ClassSeries{legit, attacker}, Capacity: c, Cost: cost}
}

// pixels is the size in pixels of a grid of rows by cols panels.
func pixels(rows, cols int) image.Point {
	w, h := gridSize(rows, cols)
	return image.Point{X: int(float64(w/vg.Inch)*DPI + 0.5), Y: int(float64(h/vg.Inch)*DPI + 0.5)}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name     string
		profiles []Profile
		want     map[string]image.Point // file -> size
	}{
		{
			"two profiles",
			[]Profile{run("unprotected", 20, false), run("protected", 20, true)},
			map[string]image.Point{LatencyFile: pixels(1, 2), CapacityFile: pixels(2, 2), CostFile: pixels(1, 2)},
		},
		{
			"one profile",
			[]Profile{run("unprotected", 5, false)},
			map[string]image.Point{LatencyFile: pixels(1, 1), CapacityFile: pixels(2, 1), CostFile: pixels(1, 2)},
		},
		{
			"no profiles",
			nil,
			map[string]image.Point{LatencyFile: pixels(1, 1), CapacityFile: pixels(2, 1), CostFile: pixels(1, 2)},
		},
		{
			"profiles without series",
			[]Profile{{Name: "unprotected"}, {Name: "protected", Classes: []ClassSeries{{Class: "legit"}}}},
			map[string]image.Point{LatencyFile: pixels(1, 2), CapacityFile: pixels(2, 2), CostFile: pixels(1, 2)},
		},
		{
			"on-demand table, single second, zeros",
			[]Profile{{
				Name:    "p",
				Classes: []ClassSeries{{Class: "c", T: []float64{0}, P50Ms: []float64{0}, P99Ms: []float64{0}}},
				Capacity: CapacitySeries{
					T: []float64{0}, ConsumedRCU: []float64{0}, ReadThrottles: []float64{0},
				},
			}},
			map[string]image.Point{LatencyFile: pixels(1, 1), CapacityFile: pixels(2, 1), CostFile: pixels(1, 2)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "charts")
			files, err := Write(dir, tt.profiles)
			if err != nil {
				t.Fatalf("Write: %v", err)
			}

			want := []string{
				filepath.Join(dir, LatencyFile), filepath.Join(dir, CapacityFile), filepath.Join(dir, CostFile),
			}
			if !reflect.DeepEqual(files, want) {
				t.Fatalf("files: got %v, want %v", files, want)
			}
			for _, f := range files {
				if got, want := decodeSize(t, f), tt.want[filepath.Base(f)]; got != want {
					t.Errorf("%s: got %v pixels, want %v", filepath.Base(f), got, want)
				}
			}
		})
	}
}

func decodeSize(t *testing.T, path string) image.Point {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: decode PNG: %v", path, err)
	}
	return img.Bounds().Size()
}

// TestWriteDrawsData checks that a panel with data is not drawn as "no
// data": its image differs from the one drawn for an empty profile.
func TestWriteDrawsData(t *testing.T) {
	full, err := Write(t.TempDir(), []Profile{run("p", 20, false)})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	empty, err := Write(t.TempDir(), []Profile{{Name: "p"}})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}

	for i := range 2 { // latency and capacity; cost always has bars
		a, b := readFile(t, full[i]), readFile(t, empty[i])
		if string(a) == string(b) {
			t.Errorf("%s: the chart with data is identical to the empty one", filepath.Base(full[i]))
		}
	}
	if got, want := inkOf(t, empty[0]), noDataInk(t); got != want {
		t.Errorf("empty latency chart: got %d dark pixels, want %d (a lone no-data panel)", got, want)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noDataInk counts the non-white pixels of a single "no data" panel.
func noDataInk(t *testing.T) int {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "nodata.png")
	if err := savePNG(path, [][]*plot.Plot{{noData("Latency, p")}}); err != nil {
		t.Fatal(err)
	}
	return inkOf(t, path)
}

func inkOf(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	ink := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r&g&bl < 0xf000 {
				ink++
			}
		}
	}
	return ink
}

func TestWriteErrors(t *testing.T) {
	good := run("p", 5, false)
	short := good
	short.Classes = []ClassSeries{{Class: "legit", T: []float64{0, 1, 2}, P99Ms: []float64{1, 2}}}
	badCapacity := good
	badCapacity.Capacity.ConsumedWCU = []float64{1}
	badCost := good
	badCost.Cost.OnDemandUSD = math.Inf(1)

	tests := []struct {
		name    string
		profile Profile
		want    string
	}{
		{
			"latency lengths", short,
			`charts: latency.png: profile "p": class "legit": p99: ` +
				`series length differs from its times: 3 times, 2 values`,
		},
		{
			"capacity lengths", badCapacity,
			`charts: capacity.png: profile "p": capacity: consumed WCU: series length differs`,
		},
		{"infinite cost", badCost, `charts: cost.png: profile "p": cost +Inf is not a finite amount`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Write(t.TempDir(), []Profile{tt.profile})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
			if tt.name != "infinite cost" && !errors.Is(err, errLength) {
				t.Errorf("error %v does not wrap errLength", err)
			}
		})
	}
}

func TestWriteUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(file, nil); err == nil || !strings.HasPrefix(err.Error(), "charts: ") {
		t.Errorf("Write into a file: got error %v, want one starting with \"charts: \"", err)
	}
}

func TestUSD(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "$0"},
		{0.0000412, "$0.00004"},
		{0.0378, "$0.038"},
		{12.5, "$12.500"},
		{1234.4, "$1234"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := usd(tt.in); got != tt.want {
				t.Errorf("usd(%v): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
