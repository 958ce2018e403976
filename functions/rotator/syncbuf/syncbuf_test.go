package syncbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/dbvault/dbvault/functions/rotator/syncbuf"
)

func TestConcurrentWritersLoseNothing(t *testing.T) {
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("line\n"))
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 800 {
		t.Fatalf("%d lines kept, want 800", n)
	}
}

// The write that crosses Max is kept whole; the ones after it are
// accepted and dropped.
func TestMaxStopsGrowth(t *testing.T) {
	b := syncbuf.Buffer{Max: 10}
	for _, w := range []string{"123456", "789012", "dropped"} {
		if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", w, n, err)
		}
	}
	if got := b.String(); got != "123456789012" {
		t.Fatalf("kept %q", got)
	}
}
