package targets

import "os"

// Smlocal runs the Secrets Manager emulator on $ADDR, default 127.0.0.1:4566.
func (Dev) Smlocal() error {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:4566"
	}
	args := []string{"-addr", addr}
	if state := os.Getenv("SMLOCAL_STATE"); state != "" {
		args = append(args, "-state", state)
	}
	if ep := os.Getenv("SMLOCAL_LAMBDA_ENDPOINT"); ep != "" {
		args = append(args, "-lambda-endpoint", ep)
	}
	return goRun("./tools/cmd/smlocal", args...)
}
