package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// env is the run's description: the machine, the Go and library versions,
// the benchmark settings and the peers' module versions.
type env struct {
	// fields are the key: value lines but modules, in file order.
	fields []envField
	// modules are the `module: <path> <version>` lines.
	modules []module
}

type envField struct{ key, value string }

type module struct{ path, version string }

// get returns the value of key, "" when there is none.
func (e *env) get(key string) string {
	for _, f := range e.fields {
		if f.key == key {
			return f.value
		}
	}
	return ""
}

// readEnv reads the env file name.
func readEnv(name string) (*env, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseEnv(f, name)
}

// parseEnv parses `key: value` lines from r, named file in errors. Blank
// lines and lines starting with # are ignored; a module line's value is a
// module path and a version. The key date is required.
func parseEnv(r io.Reader, file string) (*env, error) {
	e := &env{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return nil, &lineError{pos{file, n}, fmt.Errorf("%q is not a key: value line", line)}
		}
		if key == "module" {
			f := strings.Fields(value)
			if len(f) != 2 {
				return nil, &lineError{pos{file, n}, fmt.Errorf("module line %q: want module: <path> <version>", line)}
			}
			e.modules = append(e.modules, module{f[0], f[1]})
			continue
		}
		e.fields = append(e.fields, envField{key, value})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if e.get("date") == "" {
		return nil, fmt.Errorf("%s: no date: line", file)
	}
	return e, nil
}
