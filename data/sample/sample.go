// Package sample embeds the bundled open data of one real borough (Wigan),
// so `nbhd load-sample` works from the binary alone.
package sample

import "embed"

// FS holds wigan/: the data files, manifest.json and SOURCES.md.
//
//go:embed wigan
var FS embed.FS

// Dir is the sample's directory within FS.
const Dir = "wigan"
