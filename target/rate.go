package target

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseRate reads a request rate as requests per second: a plain number
// ("10000", "2.5") or a count per unit ("600/m", "50/s", "1/ms", "3/h",
// "100/2s"). The rate must be finite and not negative.
func ParseRate(s string) (float64, error) {
	num, per, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) || n < 0 {
		return 0, fmt.Errorf("rate %q: want a number of requests >= 0, such as 10000 or 600/m", s)
	}
	if !hasUnit {
		return n, nil
	}

	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("rate %q: want a unit such as /s, /m or /h after the count", s)
	}
	return n / d.Seconds(), nil
}
