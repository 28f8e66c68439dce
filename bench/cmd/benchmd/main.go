package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// config holds the flags.
type config struct {
	success, scenarios, benchstat, env string
	out                                string // "" for standard output
}

func main() {
	var cfg config
	flag.StringVar(&cfg.success, "success", "", "success-path benchmark output (go test -bench ... -benchmem -count N)")
	flag.StringVar(&cfg.scenarios, "scenarios", "", "scenario benchmark output (go test -v -bench ... -benchtime 1x)")
	flag.StringVar(&cfg.benchstat, "benchstat", "", "output of benchstat -col /client on the success file")
	flag.StringVar(&cfg.env, "env", "", "key: value file describing the machine and versions")
	flag.StringVar(&cfg.out, "out", "", "Markdown file to write (default standard output)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "benchmd: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}
	if err := run(cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchmd:", err)
		os.Exit(1)
	}
}

// run reads the inputs of cfg and writes the document to cfg.out, or to
// stdout when cfg.out is empty. Nothing is written unless every input is
// good.
func run(cfg config, stdout io.Writer) error {
	doc, err := generate(cfg)
	if err != nil {
		return err
	}
	if cfg.out == "" {
		_, err := stdout.Write(doc)
		return err
	}
	return os.WriteFile(cfg.out, doc, 0o644)
}

// generate reads the inputs named by cfg and returns the document.
func generate(cfg config) ([]byte, error) {
	var missing []error
	for _, f := range []struct{ flag, value string }{
		{"-success", cfg.success}, {"-scenarios", cfg.scenarios},
		{"-benchstat", cfg.benchstat}, {"-env", cfg.env},
	} {
		if f.value == "" {
			missing = append(missing, fmt.Errorf("missing %s FILE", f.flag))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}

	succ, err := readSuccess(cfg.success)
	if err != nil {
		return nil, err
	}
	scen, err := readScenarios(cfg.scenarios)
	if err != nil {
		return nil, err
	}
	env, err := readEnv(cfg.env)
	if err != nil {
		return nil, err
	}
	benchstat, err := os.ReadFile(cfg.benchstat)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(benchstat)) == 0 {
		return nil, fmt.Errorf("%s: empty benchstat output", cfg.benchstat)
	}

	// The success file of a plain `go test -bench` says nothing about the
	// benchmarks it skipped; the scenarios' -v output says why a peer
	// cannot make a kind of call.
	succ.reasons = scen.peerReasons()
	d := &doc{success: succ, scenarios: scen, env: env, benchstat: string(benchstat)}
	if err := d.check(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	d.write(&buf)
	return buf.Bytes(), nil
}
