package target

import (
	"bufio"
	"io"
	"strconv"
	"sync"
	"time"
)

// RawHeader is the first line Run writes to Config.Raw. Its first column,
// profile, holds Config.RawTag: the harness puts the profile there.
const RawHeader = "profile,class,request,seq,intended_unix_ns,status,latency_us,service_us,retries\n"

// rawLog streams one CSV line per finished request to a writer, so a run
// can keep every request on disk without keeping any in memory. It is
// safe for concurrent use; the first write error stops it and is kept.
type rawLog struct {
	mu  sync.Mutex
	w   *bufio.Writer
	tag string
	buf []byte
	err error
}

func newRawLog(w io.Writer, tag string, headed bool) *rawLog {
	if w == nil {
		return nil
	}
	l := &rawLog{w: bufio.NewWriterSize(w, 1<<16), tag: tag}
	if !headed {
		_, l.err = l.w.WriteString(RawHeader)
	}
	return l
}

func (l *rawLog) write(class, request string, seq int64, intended time.Time, o *outcome) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	b := append(l.buf[:0], l.tag...)
	b = append(b, ',')
	b = append(b, class...)
	b = append(b, ',')
	b = append(b, request...)
	b = append(b, ',')
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, intended.UnixNano(), 10)
	b = append(b, ',')
	if o.code == 0 {
		b = append(b, StatusError...)
	} else {
		b = strconv.AppendInt(b, int64(o.code), 10)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, o.latency.Microseconds(), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, o.service.Microseconds(), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, o.retries, 10)
	b = append(b, '\n')
	l.buf = b
	_, l.err = l.w.Write(b)
}

// close flushes what is buffered and returns the first error.
func (l *rawLog) close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = l.w.Flush()
	}
	return l.err
}
