package target

import (
	"testing"
	"time"
)

// Errors count requests with no HTTP answer, as the summary does; 5xx
// answers are counted apart.
func TestProgressCountsErrorsApartFrom5xx(t *testing.T) {
	var p Progress
	for _, code := range []int{200, 503, 500, 0, 429} {
		p.doneOne(code, 1000)
	}
	if s := p.Snapshot(time.Now()); s.Errors != 1 || s.Status5xx != 2 || s.Done != 5 {
		t.Errorf("snapshot %+v, want 1 error, 2 5xx, 5 done", s)
	}
}
