// Package cmdenv is what the tools' commands (sandbox, chaos, bench) share:
// defaults for their flags from environment variables, read strictly, and
// the context they run in.
package cmdenv

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Env reads the commands' flag defaults from environment variables,
// strictly: a value that is not what its variable takes is an error that
// names the variable, never a silent default.
type Env struct {
	Getenv func(string) string
	// Err is the first bad value read; once set, reads return their
	// defaults.
	Err error
}

// Int is the value of the variable name as a whole number of at least min,
// or def when it is not set.
func (e *Env) Int(name string, def, min int) int {
	v := e.Getenv(name)
	if v == "" || e.Err != nil {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		e.Err = fmt.Errorf("%s=%q: expected a whole number of at least %d", name, v, min)
		return def
	}
	return n
}

// Duration is the value of name as a positive duration (e.g. 400ms), or def.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v := e.Getenv(name)
	if v == "" || e.Err != nil {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.Err = fmt.Errorf("%s=%q: expected a positive duration such as 400ms", name, v)
		return def
	}
	return d
}

// Context is the context a command runs in: cancelled by Ctrl-C, SIGTERM
// or any of signals. It also silences the MySQL driver's own logger, which
// prints dropped connections that the commands report themselves.
func Context(signals ...os.Signal) (context.Context, context.CancelFunc) {
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	return signal.NotifyContext(context.Background(), append([]os.Signal{os.Interrupt, syscall.SIGTERM}, signals...)...)
}
