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

// Int is the value of the environment variable name as a whole number of at
// least min, or def when it is not set. A value that is not one is an error
// that names the variable, never a silent default.
func Int(getenv func(string) string, name string, def, min int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, fmt.Errorf("%s=%q: expected a whole number of at least %d", name, v, min)
	}
	return n, nil
}

// Duration is the value of name as a positive duration (e.g. 400ms), or def.
func Duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: expected a positive duration such as 400ms", name, v)
	}
	return d, nil
}

// Context is the context a command runs in: cancelled by Ctrl-C or SIGTERM.
// It also silences the MySQL driver's own logger, which prints dropped
// connections that the commands report themselves.
func Context() (context.Context, context.CancelFunc) {
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
