// Package event implements Matrix room events (PDUs) for every stable room
// version: parsing, content hashes, reference hashes and event IDs, ed25519
// signing and verification, and the redaction algorithm.
package event
