package target

import (
	"context"
	"testing"
	"time"
)

func TestWakerNeverWakesEarly(t *testing.T) {
	ctx := context.Background()
	w := newWaker(ctx)
	defer w.close()

	waits := []time.Duration{-time.Millisecond, 0, 30 * time.Microsecond, 300 * time.Microsecond, 3 * time.Millisecond}
	for _, d := range waits {
		at := time.Now().Add(d)
		if !w.until(ctx, at) {
			t.Fatalf("until(now%+v) = false, want true", d)
		}
		if now := time.Now(); now.Before(at) {
			t.Errorf("until(now%+v) returned %v early", d, at.Sub(now))
		}
	}
}

func TestWakerCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := newWaker(ctx)
	defer w.close()

	done := make(chan bool)
	go func() { done <- w.until(ctx, time.Now().Add(time.Hour)) }()
	cancel()
	if <-done {
		t.Error("until an hour away = true after cancel, want false")
	}
	if w.until(ctx, time.Now().Add(time.Millisecond)) {
		t.Error("until after cancel = true, want false")
	}
	if w.until(ctx, time.Now().Add(-time.Millisecond)) {
		t.Error("until a past instant after cancel = true, want false")
	}
}
