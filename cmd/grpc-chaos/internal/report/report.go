package report

import "time"

// Report is everything a run found: the plan it ran and one row per RPC kind
// and policy. It is what --json prints and what --report writes to
// report.json; report.html draws its charts from it.
type Report struct {
	// Tool is always "grpc-chaos", so a JSON file says where it came from.
	Tool string `json:"tool"`
	// Started is when the run began, in UTC.
	Started time.Time `json:"started"`
	// ElapsedMs is how long the whole run took, in milliseconds.
	ElapsedMs float64 `json:"elapsedMs"`
	// Plan is what was run.
	Plan PlanInfo `json:"plan"`
	// Rows holds one row per kind and policy, kinds in the plan's order and,
	// within a kind, policies in the plan's order.
	Rows []Row `json:"rows"`
	// SLO is the verdict on --slo, absent when none was given.
	SLO *SLOResult `json:"slo,omitempty"`
	// Interrupted reports that the run was stopped (SIGINT or SIGTERM)
	// before every row ran: Rows holds the rows that finished.
	Interrupted bool `json:"interrupted,omitempty"`
}

// PlanInfo describes a run's plan in words and figures.
type PlanInfo struct {
	// Target is "embedded" for the server the run started itself, or the
	// --target given.
	Target string `json:"target"`
	// Faults is the embedded server's fault spec in the faultinject text
	// form, "none", or the name of the --faults-file; empty against a
	// --target, whose servers have faults of their own.
	Faults string `json:"faults,omitempty"`
	// Seed is the embedded server's fault seed; nil against a --target.
	Seed *uint64 `json:"seed,omitempty"`
	// Calls is the number of calls per row; 0 when the run was timed.
	Calls int `json:"calls,omitempty"`
	// Duration is how long each row ran, when the run was timed.
	Duration string `json:"duration,omitempty"`
	// Concurrency is the number of callers per row.
	Concurrency int `json:"concurrency"`
	// Timeout is each call's deadline, spanning all its attempts.
	Timeout string `json:"timeout"`
	// Kinds lists the RPC kinds run, in order.
	Kinds []string `json:"kinds"`
	// Policies lists the client policies run, in order.
	Policies []PolicyInfo `json:"policies"`
}

// PolicyInfo names a client policy and says what it does.
type PolicyInfo struct {
	// Name is the policy's name as --policies takes it, e.g. "a6-retry".
	Name string `json:"name"`
	// Description says what the client does, e.g. "4 retries, 10ms apart".
	Description string `json:"description"`
	// ServiceConfig is the A6 service config of the a6-* policies.
	ServiceConfig string `json:"serviceConfig,omitempty"`
}

// Row is what one policy did for one RPC kind.
type Row struct {
	// Kind is the RPC kind: "unary", "server-stream", "client-stream" or
	// "bidi".
	Kind string `json:"kind"`
	// Method is the full method name called, e.g. "/routeguide.RouteGuide/GetFeature".
	Method string `json:"method"`
	// Policy is the client policy's name.
	Policy string `json:"policy"`
	// Calls is the number of calls made; OK of them succeeded with the
	// right data.
	Calls int `json:"calls"`
	OK    int `json:"ok"`
	// SuccessRate is OK / Calls, from 0 to 1.
	SuccessRate float64 `json:"successRate"`
	// Attempts is the number of attempts the client made, over all calls;
	// AttemptsPerCall is Attempts / Calls.
	Attempts        int     `json:"attempts"`
	AttemptsPerCall float64 `json:"attemptsPerCall"`
	// ServerAttempts is the number of attempts the server saw, and
	// ServerAttemptsPerCall that number per call: the amplification the
	// policy causes. Both are absent when the server's counters cannot be
	// read (a --target server).
	ServerAttempts        *int     `json:"serverAttempts,omitempty"`
	ServerAttemptsPerCall *float64 `json:"serverAttemptsPerCall,omitempty"`
	// LatencyMs summarises the calls' latencies, in milliseconds, failed
	// calls included.
	LatencyMs Latency `json:"latencyMs"`
	// LatencyQuantilesMs holds 101 latencies in milliseconds: element i is
	// the i-th percentile (nearest rank), element 0 the fastest call and
	// element 100 the slowest.
	LatencyQuantilesMs []float64 `json:"latencyQuantilesMs"`
	// Codes counts the calls by final status code name ("OK",
	// "UNAVAILABLE", ...). A call that succeeded with the wrong data counts
	// under "WRONG_DATA".
	Codes map[string]int `json:"codes"`
	// AttemptCodes counts the attempts by status code name; a hedge that
	// lost and was cancelled counts as "CANCELLED".
	AttemptCodes map[string]int `json:"attemptCodes"`
	// AttemptsHistogram[i] is the number of calls that made i+1 attempts.
	AttemptsHistogram []int `json:"attemptsHistogram"`
	// Stops counts failed calls by why the policy stopped retrying or
	// hedging: "exhausted", "non-retryable", "throttled", "pushback",
	// "deadline", "canceled" or "committed". Calls of the "none" policy and
	// calls that failed outside the policy are absent.
	Stops map[string]int `json:"stops"`
	// WrongData is the number of calls that ended OK but whose responses
	// were not what a fault-free route guide server sends: a duplicated,
	// missing or foreign message.
	WrongData int `json:"wrongData"`
	// Reran is the number of calls whose handler the server ran more than
	// once: hedges that got past the faults side by side. A non-idempotent
	// method's side effects then happen twice; for RouteChat, which stores
	// every note, the winner may answer with the notes the loser stored.
	// WrongDataReran is the part of WrongData that such calls explain.
	// Both are absent when the server's counters cannot be read.
	Reran          *int `json:"reran,omitempty"`
	WrongDataReran *int `json:"wrongDataReran,omitempty"`
	// ElapsedMs is how long the row took, in milliseconds.
	ElapsedMs float64 `json:"elapsedMs"`
}

// Latency summarises latencies in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// SLOResult is the verdict on a --slo: Met is true when every objective held
// for every row it applies to.
type SLOResult struct {
	// Spec is the --slo as given.
	Spec string `json:"spec"`
	// Met reports that every check passed.
	Met bool `json:"met"`
	// Checks holds one entry per objective and row it applies to.
	Checks []SLOCheck `json:"checks"`
}

// SLOCheck is one objective checked against one row.
type SLOCheck struct {
	// Objective is the objective as written, e.g. "p99<=100ms".
	Objective string `json:"objective"`
	// Kind and Policy name the row.
	Kind   string `json:"kind"`
	Policy string `json:"policy"`
	// Value is the row's figure, in the objective's unit: a percentage for
	// success, milliseconds for latencies, a plain number otherwise.
	Value float64 `json:"value"`
	// Unit is the unit of Value: "%", "ms", or "" for a plain number.
	Unit string `json:"unit,omitempty"`
	// Met reports that the objective held.
	Met bool `json:"met"`
}
