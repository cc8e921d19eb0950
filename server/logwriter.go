package main

import (
	"io"
	"sync"
	"time"
)

// logWriter batches log output under load. Every request writes an access
// log line, and one write(2) per line cost a fifth of the request rate in
// docs/PERFORMANCE.md's measurements. A line that arrives after a quiet
// spell is written at once; lines that follow within interval are collected
// and written together at most interval later (or when maxBuffered is
// reached), so a busy server makes a few writes per interval instead of one
// per request, and a quiet one logs as before. Close flushes.
type logWriter struct {
	mu        sync.Mutex
	w         io.Writer
	interval  time.Duration
	buf       []byte
	lastWrite time.Time
	timer     *time.Timer
	armed     bool
	closed    bool
}

const maxBuffered = 64 << 10

func newLogWriter(w io.Writer, interval time.Duration) *logWriter {
	return &logWriter{w: w, interval: interval}
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.closed || (len(l.buf) == 0 && now.Sub(l.lastWrite) >= l.interval) {
		l.lastWrite = now
		return l.w.Write(p)
	}
	l.buf = append(l.buf, p...)
	if len(l.buf) >= maxBuffered {
		return len(p), l.flushLocked()
	}
	if !l.armed {
		if l.timer == nil {
			l.timer = time.AfterFunc(l.interval, l.flush)
		} else {
			l.timer.Reset(l.interval)
		}
		l.armed = true
	}
	return len(p), nil
}

// flush runs from the timer; a failed write has nowhere better to go.
func (l *logWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed = false
	_ = l.flushLocked()
}

func (l *logWriter) flushLocked() error {
	if len(l.buf) == 0 {
		return nil
	}
	l.lastWrite = time.Now()
	_, err := l.w.Write(l.buf)
	l.buf = l.buf[:0]
	if cap(l.buf) > 4*maxBuffered {
		l.buf = nil // give back a buffer a burst made huge
	}
	return err
}

// Close writes what is buffered; later writes go straight through.
func (l *logWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
	}
	l.armed, l.closed = false, true
	return l.flushLocked()
}
