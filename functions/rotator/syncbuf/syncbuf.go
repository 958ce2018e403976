// Package syncbuf has a buffer that several goroutines write to at once:
// a server's log handler, or the copiers of a child process's stdout and
// stderr. It serves the emulator's test helper (smlocal/smtest) and the
// local tools; the rotation function does not use it.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer keeps what is written to it. Write and String are safe for
// concurrent use; the zero value is an empty buffer with no limit.
type Buffer struct {
	// Max, when positive, stops the buffer growing once it holds more
	// than Max bytes: later writes are accepted and dropped, so that a
	// long run's output costs bounded memory.
	Max int

	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Max > 0 && b.buf.Len() > b.Max {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
