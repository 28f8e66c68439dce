package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes r as JSON indented by two spaces, followed by a newline:
// the form of --json and of report.json. Characters such as < and & are
// written as they are, not as \u003c escapes, since the JSON is for
// terminals and files rather than for embedding in HTML.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
