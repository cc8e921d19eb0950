package store

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
)

// StateBuckets is how many buckets a room's (type, state_key) space is split
// into. A state change rewrites one bucket's block; a snapshot lists at most
// this many block NIDs. 256 keeps both small for a 10,000-member room
// (about 40 entries per block, about 1 KiB per snapshot).
const StateBuckets = 256

// StateKey is a (type, state_key) pair.
type StateKey struct {
	Type     string
	StateKey string
}

// StateEntry is one piece of room state: which event sets a StateKey.
type StateEntry struct {
	StateKey
	EventNID int64
}

// Bucket returns the bucket a state key belongs to (FNV-1a, stable forever:
// it is part of the stored format).
func Bucket(k StateKey) int {
	h := fnv.New32a()
	h.Write([]byte(k.Type))
	h.Write([]byte{0})
	h.Write([]byte(k.StateKey))
	return int(h.Sum32() % StateBuckets)
}

func compareEntries(a, b StateEntry) int {
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	return cmp.Compare(a.StateKey.StateKey, b.StateKey.StateKey)
}

// EncodeBlock encodes entries sorted by key: a count, then per entry the
// length-prefixed type and state key and the event NID, all as uvarints.
func EncodeBlock(entries []StateEntry) []byte {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, compareEntries)
	buf := binary.AppendUvarint(nil, uint64(len(sorted)))
	for _, e := range sorted {
		buf = binary.AppendUvarint(buf, uint64(len(e.Type)))
		buf = append(buf, e.Type...)
		buf = binary.AppendUvarint(buf, uint64(len(e.StateKey.StateKey)))
		buf = append(buf, e.StateKey.StateKey...)
		buf = binary.AppendUvarint(buf, uint64(e.EventNID))
	}
	return buf
}

var errCorruptState = errors.New("corrupt state encoding")

// DecodeBlock is the inverse of EncodeBlock.
func DecodeBlock(b []byte) ([]StateEntry, error) {
	r := reader{b: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		return nil, errCorruptState
	}
	entries := make([]StateEntry, 0, n)
	for range n {
		typ := r.bytes()
		sk := r.bytes()
		nid := r.uvarint()
		entries = append(entries, StateEntry{StateKey{string(typ), string(sk)}, int64(nid)})
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errCorruptState
	}
	return entries, nil
}

// SnapshotBlocks maps bucket -> block NID for the non-empty buckets.
type SnapshotBlocks map[int]int64

// EncodeSnapshot encodes the bucket -> block list in bucket order.
func EncodeSnapshot(blocks SnapshotBlocks) []byte {
	buckets := make([]int, 0, len(blocks))
	for b := range blocks {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets)
	buf := binary.AppendUvarint(nil, uint64(len(buckets)))
	for _, b := range buckets {
		buf = binary.AppendUvarint(buf, uint64(b))
		buf = binary.AppendUvarint(buf, uint64(blocks[b]))
	}
	return buf
}

// DecodeSnapshot is the inverse of EncodeSnapshot.
func DecodeSnapshot(b []byte) (SnapshotBlocks, error) {
	r := reader{b: b}
	n := r.uvarint()
	if n > StateBuckets {
		return nil, errCorruptState
	}
	blocks := make(SnapshotBlocks, n)
	for range n {
		bucket := r.uvarint()
		blocks[int(bucket)] = int64(r.uvarint())
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errCorruptState
	}
	return blocks, nil
}

// ContentHash is the hex SHA-256 that content-addresses blocks and snapshots.
func ContentHash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(binary.AppendUvarint(nil, uint64(len(p))))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// reader decodes uvarints and length-prefixed strings, remembering the
// first error so callers check once.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint", errCorruptState)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errCorruptState
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}
