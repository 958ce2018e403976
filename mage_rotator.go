//go:build mage

package main

// Rotator builds the rotator's Lambda zip (functions/rotator/dist/rotator.zip, linux/arm64, reproducible).
func Rotator() error {
	return goRun("./tools/lambdazip/cmd/lambdazip", "-pkg", "./functions/rotator", "-out", "functions/rotator/dist", "-zip", "rotator.zip")
}
