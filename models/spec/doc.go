// Package spec holds the Matrix vocabulary shared by every layer of Kabar: typed
// identifiers with their parsers, the standard error codes and the Matrix error
// type that carries its HTTP status, and event-type constants. It imports only
// the standard library.
package spec
