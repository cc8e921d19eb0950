// Package canonicaljson implements Matrix canonical JSON (appendices,
// "Canonical JSON") and strict JSON validation: what is verified is exactly
// what is acted on.
package canonicaljson
