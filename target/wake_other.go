//go:build !linux

package target

import (
	"context"
	"time"
)

// sysWaker has no precise timer here: the waker uses its time.Timer.
type sysWaker struct{}

func (*sysWaker) init(context.Context)     {}
func (*sysWaker) sleep(time.Duration) bool { return false }
func (*sysWaker) close()                   {}
