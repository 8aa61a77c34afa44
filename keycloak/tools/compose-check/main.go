// compose-check loads a Compose file with compose-go, the loader of Docker Compose itself: the
// file is parsed, interpolated from the environment, validated against the Compose
// specification and normalised as `docker compose config` does, without a Docker engine.
// Usage: compose-check FILE — prints the services' names; exits 1 with the loader's errors.
// Built by keycloak/bootstrap.sh --browser; used by tests/unit/tooling/test_containers.py.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE")
		os.Exit(2)
	}
	if err := check(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func check(path string) error {
	file, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	options, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithOsEnv,
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithName("collecte"),
	)
	if err != nil {
		return err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	for _, name := range project.ServiceNames() {
		fmt.Println(name)
	}
	return nil
}
