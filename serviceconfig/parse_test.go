package serviceconfig_test

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"

	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// retryPolicy builds a one-entry config around a retryPolicy whose fields
// are the given raw JSON values; an empty value leaves the field out.
func retryPolicy(maxAttempts, initialBackoff, maxBackoff, multiplier, codes string) string {
	var fields []string
	for _, f := range [][2]string{
		{"maxAttempts", maxAttempts},
		{"initialBackoff", initialBackoff},
		{"maxBackoff", maxBackoff},
		{"backoffMultiplier", multiplier},
		{"retryableStatusCodes", codes},
	} {
		if f[1] != "" {
			fields = append(fields, `"`+f[0]+`":`+f[1])
		}
	}
	return `{"methodConfig":[{"name":[{"service":"s"}],"retryPolicy":{` + strings.Join(fields, ",") + `}}]}`
}

// methodConfig builds a one-entry config from the raw members of the entry.
func methodConfig(members string) string {
	return `{"methodConfig":[{"name":[{"service":"s"}],` + members + `}]}`
}

const validRetry = `"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.1s","maxBackoff":"1s","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}`

type parseErrorCase struct {
	name  string
	in    string
	path  string // the exact *rsc.Error Path
	value string // a substring of the message that quotes the bad value
}

func parseErrorCases() []parseErrorCase {
	const rp = "methodConfig[0].retryPolicy"
	cases := []parseErrorCase{
		// Whole document.
		{"empty input", ``, "", "empty input"},
		{"blank input", " \n\t", "", "empty input"},
		{"null", `null`, "", "null is not a service config"},
		{"array document", `[]`, "", "[] is an array, not an object"},
		{"string document", `"x"`, "", `"x" is a string, not an object`},
		{"syntax error", `{"methodConfig": [}`, "", "line 1, column 19"},
		{"syntax error line 3", "{\n  \"methodConfig\": [\n    {\"name\": x}]}", "", "line 3, column 14"},
		{"truncated", `{"methodConfig": [`, "", "invalid JSON"},
		{"trailing data", `{} {}`, "", "after top-level value"},
		{"trailing comma", `{"retryThrottling":{"maxTokens":1,"tokenRatio":1,}}`, "", "invalid JSON"},

		// retryPolicy.maxAttempts.
		{"maxAttempts missing", retryPolicy(``, `"1s"`, `"1s"`, `2`, `["UNAVAILABLE"]`), rp + ".maxAttempts", "required field missing"},
		{"maxAttempts -1", retryPolicy(`-1`, `"1s"`, `"1s"`, `2`, `["UNAVAILABLE"]`), rp + ".maxAttempts", "-1 is not greater than 1"},
		{"maxAttempts 0", retryPolicy(`0`, `"1s"`, `"1s"`, `2`, `["UNAVAILABLE"]`), rp + ".maxAttempts", "0 is not greater than 1"},
		{"maxAttempts 1", retryPolicy(`1`, `"1s"`, `"1s"`, `2`, `["UNAVAILABLE"]`), rp + ".maxAttempts", "1 is not greater than 1"},
		{"maxAttempts 2.5", retryPolicy(`2.5`, `"1s"`, `"1s"`, `2`, `["UNAVAILABLE"]`), rp + ".maxAttempts", "2.5 is not an integer"},
		{"maxAttempts 3.0", retryPolicy(`3.0`, `"1s"`, `"1s"`, `2`, `["UNAVAILABLE"]`), rp + ".maxAttempts", "3.0 is not an integer"},
		{"maxAttempts string", retryPolicy(`"3"`, `"1s"`, `"1s"`, `2`, `["UNAVAILABLE"]`), rp + ".maxAttempts", `"3" is a string, not an integer`},
		{"maxAttempts huge", retryPolicy(`99999999999999999999`, `"1s"`, `"1s"`, `2`, `["UNAVAILABLE"]`), rp + ".maxAttempts", "99999999999999999999 is out of range"},

		// retryPolicy.backoffMultiplier.
		{"multiplier 0", retryPolicy(`3`, `"1s"`, `"1s"`, `0`, `["UNAVAILABLE"]`), rp + ".backoffMultiplier", "0 is not greater than 0"},
		{"multiplier -2", retryPolicy(`3`, `"1s"`, `"1s"`, `-2`, `["UNAVAILABLE"]`), rp + ".backoffMultiplier", "-2 is not greater than 0"},
		{"multiplier missing", retryPolicy(`3`, `"1s"`, `"1s"`, ``, `["UNAVAILABLE"]`), rp + ".backoffMultiplier", "required field missing"},
		{"multiplier string", retryPolicy(`3`, `"1s"`, `"1s"`, `"2"`, `["UNAVAILABLE"]`), rp + ".backoffMultiplier", `"2" is a string, not a number`},
		{"multiplier overflow", retryPolicy(`3`, `"1s"`, `"1s"`, `1e999`, `["UNAVAILABLE"]`), rp + ".backoffMultiplier", "1e999 is out of range"},

		// retryPolicy.retryableStatusCodes.
		{"codes empty", retryPolicy(`3`, `"1s"`, `"1s"`, `2`, `[]`), rp + ".retryableStatusCodes", "empty list"},
		{"codes missing", retryPolicy(`3`, `"1s"`, `"1s"`, `2`, ``), rp + ".retryableStatusCodes", "required field missing"},
		{"codes not a list", retryPolicy(`3`, `"1s"`, `"1s"`, `2`, `"UNAVAILABLE"`), rp + ".retryableStatusCodes", `"UNAVAILABLE" is a string, not an array`},
		{"code unknown", retryPolicy(`3`, `"1s"`, `"1s"`, `2`, `["UNAVAILABLE","aborted","FOO"]`), rp + ".retryableStatusCodes[2]", `status code "FOO"`},
		{"code 17", retryPolicy(`3`, `"1s"`, `"1s"`, `2`, `[17]`), rp + ".retryableStatusCodes[0]", `status code "17"`},
		{"code \"17\"", retryPolicy(`3`, `"1s"`, `"1s"`, `2`, `["17"]`), rp + ".retryableStatusCodes[0]", `status code "17"`},
		{"code -1", retryPolicy(`3`, `"1s"`, `"1s"`, `2`, `[-1]`), rp + ".retryableStatusCodes[0]", `status code "-1"`},
		{"code 14.0", retryPolicy(`3`, `"1s"`, `"1s"`, `2`, `[14.0]`), rp + ".retryableStatusCodes[0]", `status code "14.0"`},
		{"code bool", retryPolicy(`3`, `"1s"`, `"1s"`, `2`, `[true]`), rp + ".retryableStatusCodes[0]", "true is a boolean, not a status code name or number"},
		{"code empty string", retryPolicy(`3`, `"1s"`, `"1s"`, `2`, `[""]`), rp + ".retryableStatusCodes[0]", "status code"},

		// Policies together.
		{"retry and hedging", methodConfig(validRetry + `,"hedgingPolicy":{"maxAttempts":2}`), "methodConfig[0]", "has both retryPolicy and hedgingPolicy"},

		// hedgingPolicy.
		{"hedging maxAttempts 1", methodConfig(`"hedgingPolicy":{"maxAttempts":1}`), "methodConfig[0].hedgingPolicy.maxAttempts", "1 is not greater than 1"},
		{"hedging maxAttempts missing", methodConfig(`"hedgingPolicy":{"hedgingDelay":"1s"}`), "methodConfig[0].hedgingPolicy.maxAttempts", "required field missing"},
		{"hedging delay negative", methodConfig(`"hedgingPolicy":{"maxAttempts":2,"hedgingDelay":"-0.5s"}`), "methodConfig[0].hedgingPolicy.hedgingDelay", `"-0.5s" is negative`},
		{"hedging delay malformed", methodConfig(`"hedgingPolicy":{"maxAttempts":2,"hedgingDelay":"500ms"}`), "methodConfig[0].hedgingPolicy.hedgingDelay", `"500ms" is not a duration like "0.1s"`},
		{"hedging bad code", methodConfig(`"hedgingPolicy":{"maxAttempts":2,"nonFatalStatusCodes":["UNAVAILABLE","nope"]}`), "methodConfig[0].hedgingPolicy.nonFatalStatusCodes[1]", `status code "nope"`},

		// Names.
		{"method without service", `{"methodConfig":[{"name":[{"method":"M"}]}]}`, "methodConfig[0].name[0]", `method "M" has no service`},
		{"method with empty service", `{"methodConfig":[{"name":[{"service":"","method":"M"}]}]}`, "methodConfig[0].name[0]", `method "M" has no service`},
		{"duplicate name in one entry", `{"methodConfig":[{"name":[{"service":"s","method":"m"},{"service":"s","method":"m"}]}]}`, "methodConfig[0].name[1]", `{"service":"s","method":"m"} duplicates methodConfig[0].name[0]`},
		{"duplicate name across entries", `{"methodConfig":[{"name":[{"service":"a"},{"service":"s","method":"m"}]},{"name":[{"service":"s","method":"m"}]}]}`, "methodConfig[1].name[0]", `{"service":"s","method":"m"} duplicates methodConfig[0].name[1]`},
		{"duplicate service-wide name", `{"methodConfig":[{"name":[{"service":"s"}]},{"name":[{"service":"s","method":""}]}]}`, "methodConfig[1].name[0]", `{"service":"s"} duplicates methodConfig[0].name[0]`},
		{"duplicate default entry", `{"methodConfig":[{"name":[{}]},{"name":[{"service":""}]}]}`, "methodConfig[1].name[0]", `{} duplicates methodConfig[0].name[0]`},
		{"name missing", `{"methodConfig":[{"timeout":"1s"}]}`, "methodConfig[0].name", "required field missing"},
		{"name empty", `{"methodConfig":[{"name":[]}]}`, "methodConfig[0].name", "empty list"},
		{"name not a list", `{"methodConfig":[{"name":{"service":"s"}}]}`, "methodConfig[0].name", `{"service":"s"} is an object, not an array`},
		{"service not a string", `{"methodConfig":[{"name":[{"service":5}]}]}`, "methodConfig[0].name[0].service", "5 is a number, not a string"},
		{"service with slash", `{"methodConfig":[{"name":[{"service":"a/b"}]}]}`, "methodConfig[0].name[0].service", `"a/b" contains "/"`},
		{"method with slash", `{"methodConfig":[{"name":[{"service":"a","method":"/m"}]}]}`, "methodConfig[0].name[0].method", `"/m" contains "/"`},

		// Other method config fields.
		{"timeout 0s", methodConfig(`"timeout":"0s"`), "methodConfig[0].timeout", `"0s" would fail every call`},
		{"timeout negative", methodConfig(`"timeout":"-1s"`), "methodConfig[0].timeout", `"-1s" is negative`},
		{"timeout no unit", methodConfig(`"timeout":"1"`), "methodConfig[0].timeout", `"1" is not a duration like "0.1s"`},
		{"timeout number", methodConfig(`"timeout":5`), "methodConfig[0].timeout", `5 is a number, not a duration string`},
		{"waitForReady string", methodConfig(`"waitForReady":"true"`), "methodConfig[0].waitForReady", `"true" is a string, not a boolean`},
		{"maxRequestMessageBytes negative", methodConfig(`"maxRequestMessageBytes":-1`), "methodConfig[0].maxRequestMessageBytes", "-1 is negative"},
		{"maxResponseMessageBytes string", methodConfig(`"maxResponseMessageBytes":"1024"`), "methodConfig[0].maxResponseMessageBytes", `"1024" is a string, not an integer`},
		{"maxResponseMessageBytes fraction", methodConfig(`"maxResponseMessageBytes":1.5`), "methodConfig[0].maxResponseMessageBytes", `1.5 is not an integer`},

		// retryThrottling.
		{"maxTokens 0", `{"retryThrottling":{"maxTokens":0,"tokenRatio":0.1}}`, "retryThrottling.maxTokens", "0 is not in (0, 1000]"},
		{"maxTokens -1", `{"retryThrottling":{"maxTokens":-1,"tokenRatio":0.1}}`, "retryThrottling.maxTokens", "-1 is not in (0, 1000]"},
		{"maxTokens 1001", `{"retryThrottling":{"maxTokens":1001,"tokenRatio":0.1}}`, "retryThrottling.maxTokens", "1001 is not in (0, 1000]"},
		{"maxTokens 1000.5", `{"retryThrottling":{"maxTokens":1000.5,"tokenRatio":0.1}}`, "retryThrottling.maxTokens", "1000.5 is not in (0, 1000]"},
		{"maxTokens missing", `{"retryThrottling":{"tokenRatio":0.1}}`, "retryThrottling.maxTokens", "required field missing"},
		{"tokenRatio 0", `{"retryThrottling":{"maxTokens":10,"tokenRatio":0}}`, "retryThrottling.tokenRatio", "0 is not greater than 0"},
		{"tokenRatio -0.5", `{"retryThrottling":{"maxTokens":10,"tokenRatio":-0.5}}`, "retryThrottling.tokenRatio", "-0.5 is not greater than 0"},
		{"tokenRatio truncates to 0", `{"retryThrottling":{"maxTokens":10,"tokenRatio":0.0009}}`, "retryThrottling.tokenRatio", "0.0009 is 0 when truncated to 3 decimal places"},
		{"tokenRatio missing", `{"retryThrottling":{"maxTokens":10}}`, "retryThrottling.tokenRatio", "required field missing"},
		{"retryThrottling not an object", `{"retryThrottling":[]}`, "retryThrottling", "[] is an array, not an object"},

		// loadBalancingConfig.
		{"lb config object", `{"loadBalancingConfig":{"round_robin":{}}}`, "loadBalancingConfig", `{"round_robin":{}} is an object, not an array`},
		{"lb config empty", `{"loadBalancingConfig":[]}`, "loadBalancingConfig", "empty list"},
		{"lb config two policies in one", `{"loadBalancingConfig":[{"round_robin":{},"pick_first":{}}]}`, "loadBalancingConfig[0]", "has 2 fields, want exactly one policy name"},
		{"lb config number", `{"loadBalancingConfig":[1]}`, "loadBalancingConfig[0]", "1 is a number, not an object"},
		{"lb policy not a string", `{"loadBalancingPolicy":["round_robin"]}`, "loadBalancingPolicy", `["round_robin"] is an array, not a string`},

		// Unknown fields, at every level.
		{"unknown top-level", `{"methodConfigs":[]}`, "methodConfigs", "unknown field"},
		{"unknown snake_case", `{"method_config":[]}`, "method_config", `unknown field (did you mean "methodConfig"?)`},
		{"unknown method config field", methodConfig(`"retry":{}`), "methodConfig[0].retry", "unknown field"},
		{"unknown name field", `{"methodConfig":[{"name":[{"service":"s","methods":"m"}]}]}`, "methodConfig[0].name[0].methods", "unknown field"},
		{"unknown retryPolicy field", methodConfig(`"retryPolicy":{"maxAttempt":3}`), "methodConfig[0].retryPolicy.maxAttempt", "unknown field"},
		{"unknown hedgingPolicy field", methodConfig(`"hedgingPolicy":{"maxAttempts":2,"delay":"1s"}`), "methodConfig[0].hedgingPolicy.delay", "unknown field"},
		{"unknown retryThrottling field", `{"retryThrottling":{"maxTokens":1,"tokenRatio":1,"tokens":1}}`, "retryThrottling.tokens", "unknown field"},
		{"unknown healthCheckConfig field", `{"healthCheckConfig":{"service":"x"}}`, "healthCheckConfig.service", "unknown field"},
		{"wrong case", methodConfig(`"Timeout":"1s"`), "methodConfig[0].Timeout", `unknown field (did you mean "timeout"?)`},
		{"odd key quoted", `{"a b":1}`, `["a b"]`, "unknown field"},

		// Repeated fields.
		{"duplicate top-level", `{"methodConfig":[],"methodConfig":[]}`, "methodConfig", "duplicate field"},
		{"duplicate in retryPolicy", methodConfig(`"retryPolicy":{"maxAttempts":3,"maxAttempts":4}`), "methodConfig[0].retryPolicy.maxAttempts", "duplicate field"},
		{"duplicate in lb config", `{"loadBalancingConfig":[{"round_robin":{"a":1,"a":2}}]}`, "loadBalancingConfig[0].round_robin.a", "duplicate field"},
		{"duplicate after escape", `{"methodConfig":[],"method\u0043onfig":[]}`, "methodConfig", "duplicate field"},

		// Wrong types elsewhere.
		{"methodConfig object", `{"methodConfig":{}}`, "methodConfig", "{} is an object, not an array"},
		{"methodConfig element string", `{"methodConfig":["x"]}`, "methodConfig[0]", `"x" is a string, not an object`},
		{"methodConfig element null", `{"methodConfig":[null]}`, "methodConfig[0]", "null is not an object"},
		{"retryPolicy array", methodConfig(`"retryPolicy":[]`), "methodConfig[0].retryPolicy", "[] is an array, not an object"},
		{"long value shortened", methodConfig(`"retryPolicy":"` + strings.Repeat("x", 100) + `"`), "methodConfig[0].retryPolicy", `"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...`},
	}
	// Both backoffs follow the same rules.
	for _, field := range []string{"initialBackoff", "maxBackoff"} {
		for _, c := range []struct{ value, want string }{
			{`"0s"`, `"0s" is not greater than 0`},
			{`"0.000s"`, `"0s" is not greater than 0`},
			{`"-1s"`, `"-1s" is not greater than 0`},
			{`"1"`, `"1" is not a duration like "0.1s"`},
			{`"abc"`, `"abc" is not a duration like "0.1s"`},
			{`"1m"`, `"1m" is not a duration like "0.1s"`},
			{`"1.5.1s"`, `"1.5.1s" is not a duration like "0.1s"`},
			{`" 1s"`, `" 1s" is not a duration like "0.1s"`},
			{`"1e3s"`, `"1e3s" is not a duration like "0.1s"`},
			{`"s"`, `"s" is not a duration like "0.1s"`},
			{`".s"`, `".s" is not a duration like "0.1s"`},
			{`"0.1234567891s"`, `"0.1234567891s" is not a duration like "0.1s": more than 9 fractional digits`},
			{`"315576000001s"`, `"315576000001s" is out of range`},
			{`0.1`, `0.1 is a number, not a duration string`},
			{``, `required field missing`},
		} {
			initial, maxB := `"0.1s"`, `"1s"`
			if field == "initialBackoff" {
				initial = c.value
			} else {
				maxB = c.value
			}
			cases = append(cases, parseErrorCase{
				name:  field + " " + c.value,
				in:    retryPolicy(`3`, initial, maxB, `2`, `["UNAVAILABLE"]`),
				path:  rp + "." + field,
				value: c.want,
			})
		}
	}
	return cases
}

func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrorCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rsc.Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, nil; want error at %q", tc.in, got, tc.path)
			}
			var e *rsc.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%s) = %T %v; want *rsc.Error", tc.in, err, err)
			}
			if e.Path != tc.path {
				t.Errorf("Parse(%s) error path = %q, want %q (error: %v)", tc.in, e.Path, tc.path, err)
			}
			prefix := "serviceconfig: "
			if tc.path != "" {
				prefix += tc.path + ": "
			}
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tc.value) {
				t.Errorf("Parse(%s) = %q, want it to start with %q and contain %q", tc.in, msg, prefix, tc.value)
			}
			// UnmarshalJSON is Parse; the document must be valid JSON for
			// encoding/json to hand it over.
			var c rsc.Config
			if err2 := c.UnmarshalJSON([]byte(tc.in)); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("UnmarshalJSON(%s) = %v, want %v", tc.in, err2, err)
			}
		})
	}
}

func TestParseErrorUnwrap(t *testing.T) {
	_, err := rsc.Parse([]byte(retryPolicy(`3`, `"1s"`, `"1s"`, `2`, `["FOO"]`)))
	var e *rsc.Error
	if !errors.As(err, &e) || e.Err == nil {
		t.Fatalf("Parse(bad code) = %v, want *rsc.Error wrapping rstatus.ParseCode's error", err)
	}
	if !errors.Is(err, e.Err) {
		t.Errorf("errors.Is(%v, %v) = false, want true", err, e.Err)
	}
}
