package target

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// sysWaker is a timerfd read through the runtime's poller.
type sysWaker struct {
	fd   int
	file *os.File // nil: no timerfd, the waker uses its timer
	stop func() bool
	buf  [8]byte // a read returns the expiry count
}

func (s *sysWaker) init(ctx context.Context) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	// Deadlines work only on a file the poller took: one it did not would
	// block a thread per sleep and could not be interrupted.
	if f.SetReadDeadline(time.Time{}) != nil {
		f.Close()
		return
	}
	s.fd, s.file = fd, f
	// A deadline in the past ends the read under way and every later one.
	s.stop = context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
}

// sleep arms the timer d from now and waits for it. It reports false when
// it could not, or was interrupted: the caller then tells the two apart.
func (s *sysWaker) sleep(d time.Duration) bool {
	if s.file == nil {
		return false
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(d.Nanoseconds())}
	if unix.TimerfdSettime(s.fd, 0, &spec, nil) != nil {
		return false
	}
	_, err := s.file.Read(s.buf[:])
	return err == nil
}

func (s *sysWaker) close() {
	if s.file != nil {
		s.stop()
		s.file.Close()
	}
}
