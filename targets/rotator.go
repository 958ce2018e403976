package targets

// Rotator builds the rotator's Lambda zip (functions/rotator/dist/rotator.zip, linux/arm64, reproducible).
func (Dev) Rotator() error {
	v, err := readVersion() // the rotator logs it: -X main.version (release.go)
	if err != nil {
		return err
	}
	return goRun("./functions/rotator/lambdazip/cmd/lambdazip", "-module", "functions/rotator", "-out", "functions/rotator/dist", "-zip", "rotator.zip", "-X", "main.version="+v)
}
