// Package report holds what a grpc-chaos run found, as the [Report] that
// --json prints, and writes it as JSON and as a self-contained HTML page
// with charts that needs no network to read.
//
// The page's charts are drawn with gonum/plot and inlined as SVG; the one
// font they use is embedded once in the page as a data: URL (about 0.5 MB),
// so the charts look the same on every machine. Each policy keeps one
// colour across all charts and tables.
package report
