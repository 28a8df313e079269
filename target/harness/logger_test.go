package harness

import (
	"context"
	"log/slog"
	"sync"
)

// startLogger returns a logger that closes started when the first profile
// starts, so a test can act at that moment without polling.
func startLogger(started chan struct{}) *slog.Logger {
	return slog.New(&startHandler{started: started})
}

type startHandler struct {
	once    sync.Once
	started chan struct{}
}

func (h *startHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *startHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "profile starting" {
		h.once.Do(func() { close(h.started) })
	}
	return nil
}

func (h *startHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *startHandler) WithGroup(string) slog.Handler      { return h }
