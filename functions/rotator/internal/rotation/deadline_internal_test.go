package rotation

import (
	"context"
	"testing"
	"time"
)

// With a minute left (the function's timeout), the margin is its cap; with
// no deadline there is none.
func TestTheDeadlineMarginIsCapped(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lambdaDeadline, _ := parent.Deadline()
	ctx, stop := stepContext(parent)
	defer stop()
	if got, _ := ctx.Deadline(); lambdaDeadline.Sub(got) != MaxDeadlineMargin {
		t.Errorf("margin %s, want %s", lambdaDeadline.Sub(got), MaxDeadlineMargin)
	}
	ctx, stop = stepContext(context.Background())
	defer stop()
	if _, ok := ctx.Deadline(); ok {
		t.Errorf("a deadline where the invocation had none")
	}
}
