package targets

// DocsTables rewrites the configuration tables of README.md and stacks/<layer>/README.md from stacks/<layer>/Pulumi.yaml (the docscheck test fails while one is stale).
func (Dev) DocsTables() error { return goRun(configCmd, "docs") }
