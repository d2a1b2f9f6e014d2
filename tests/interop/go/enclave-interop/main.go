// Command enclave-interop checks what the enclave CLI produces with Go's reference
// implementation of signed notes and transparency logs, golang.org/x/mod/sumdb/note and
// golang.org/x/mod/sumdb/tlog. It is an independent second opinion: nothing here shares
// code with the C# implementation.
//
// Build it in GOPATH mode against the Debian package golang-golang-x-mod-dev
// (nothing is downloaded):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 go build -o enclave-interop ./tests/interop/go/enclave-interop
//
// Usage:
//
//	enclave-interop checkpoint  -keys KEYS -note CHECKPOINT
//	enclave-interop inclusion   -keys KEYS -note CHECKPOINT -proof PROOF.json -entry ENTRY
//	enclave-interop consistency -keys KEYS -old OLD_CHECKPOINT -note CHECKPOINT -proof PROOF.json
//	enclave-interop tiles       -keys KEYS -note CHECKPOINT -dir EXPORT_DIR
//	enclave-interop tlogjson    -proof PROOF.json
//
// KEYS is a file with one verifier key per line, as printed by 'enclave ledger init'.
// Every command opens the signed checkpoint with note.Open first and fails unless a key
// Go supports (Ed25519) verified it. It prints what it checked, one "name: value" line at
// a time, and exits 0; on any failure it prints "FAIL: ..." to standard error and exits 1
// (2 for a wrong command line).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Bounds on what is read from files: the inputs are untrusted.
const (
	maxNoteBytes  = 1 << 20
	maxProofBytes = 1 << 20
	maxEntryBytes = 1 << 20
	maxKeysBytes  = 1 << 20
	maxProofLen   = 64
	maxTreeSize   = 1 << 24 // the tiles check holds every leaf hash in memory

	tileHeight = 8 // C2SP tlog-tiles: 256 hashes (or entries) per full tile
	tileWidth  = 1 << tileHeight
)

// errUnknownAlgorithm is the text of note's unexported errVerifierAlg. NewVerifier checks
// the key hash before the algorithm, so a key that fails with it has a well-formed name,
// hash and encoding: Go just cannot verify its signature type.
const errUnknownAlgorithm = "unknown verifier algorithm"

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, "usage: enclave-interop checkpoint|inclusion|consistency|tiles|tlogjson [flags]; see the package comment")
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command given"}
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	keys := fs.String("keys", "", "file of verifier keys, one per line")
	notePath := fs.String("note", "", "signed checkpoint")
	oldPath := fs.String("old", "", "older signed checkpoint (consistency)")
	proofPath := fs.String("proof", "", "proof JSON from 'enclave ledger prove --json' or 'consistency --json'")
	entryPath := fs.String("entry", "", "entry bytes from 'enclave ledger get'")
	dir := fs.String("dir", "", "directory written by 'enclave ledger export'")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("unexpected arguments %q", fs.Args())}
	}
	need := func(names ...string) error {
		for _, name := range names {
			if fs.Lookup(name).Value.String() == "" {
				return usageError{fmt.Sprintf("%s needs -%s", args[0], name)}
			}
		}
		return nil
	}

	switch args[0] {
	case "checkpoint":
		if err := need("keys", "note"); err != nil {
			return err
		}
		_, err := openCheckpoint(out, *keys, *notePath)
		return err
	case "inclusion":
		if err := need("keys", "note", "proof", "entry"); err != nil {
			return err
		}
		cp, err := openCheckpoint(out, *keys, *notePath)
		if err != nil {
			return err
		}
		return checkInclusion(out, cp, *proofPath, *entryPath)
	case "consistency":
		if err := need("keys", "old", "note", "proof"); err != nil {
			return err
		}
		old, err := openCheckpoint(out, *keys, *oldPath)
		if err != nil {
			return err
		}
		cp, err := openCheckpoint(out, *keys, *notePath)
		if err != nil {
			return err
		}
		return checkConsistency(out, old, cp, *proofPath)
	case "tiles":
		if err := need("keys", "note", "dir"); err != nil {
			return err
		}
		cp, err := openCheckpoint(out, *keys, *notePath)
		if err != nil {
			return err
		}
		return checkTiles(out, cp, *dir)
	case "tlogjson":
		if err := need("proof"); err != nil {
			return err
		}
		return checkTlogJSON(out, *proofPath)
	default:
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
}

// checkpoint is the verified body of a C2SP tlog-checkpoint note.
type checkpoint struct {
	path   string
	origin string
	tree   tlog.Tree
}

// openCheckpoint verifies the signed note at path with the keys Go supports and parses
// its body: origin, decimal size, base64 root hash (C2SP tlog-checkpoint).
func openCheckpoint(out io.Writer, keysPath, path string) (*checkpoint, error) {
	verifiers, err := loadVerifiers(out, keysPath)
	if err != nil {
		return nil, err
	}
	msg, err := readBounded(path, maxNoteBytes)
	if err != nil {
		return nil, err
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		return nil, fmt.Errorf("%s: note.Open rejected the checkpoint: %v", path, err)
	}
	for _, s := range n.Sigs {
		fmt.Fprintf(out, "verified signature: %s+%08x\n", s.Name, s.Hash)
	}
	for _, s := range n.UnverifiedSigs {
		fmt.Fprintf(out, "unverified signature: %s+%08x\n", s.Name, s.Hash)
	}

	cp, err := parseCheckpointBody(n.Text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	cp.path = path
	signedByOrigin := false
	for _, s := range n.Sigs {
		signedByOrigin = signedByOrigin || s.Name == cp.origin
	}
	if !signedByOrigin {
		return nil, fmt.Errorf("%s: no verified signature is by a key named like the origin %q", path, cp.origin)
	}
	fmt.Fprintf(out, "origin: %s\nsize: %d\nroot: %s\n", cp.origin, cp.tree.N, cp.tree.Hash)
	return cp, nil
}

// loadVerifiers reads verifier keys, one per line. A key whose algorithm Go's note package
// does not know (such as the ML-DSA-44 cosignature key, type 0x06) is listed as unsupported
// and left out; note.NewVerifier has by then checked its name and key hash. Any other
// error in a key fails.
func loadVerifiers(out io.Writer, path string) ([]note.Verifier, error) {
	text, err := readBounded(path, maxKeysBytes)
	if err != nil {
		return nil, err
	}
	var verifiers []note.Verifier
	for i, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		v, err := note.NewVerifier(line)
		if err != nil && err.Error() == errUnknownAlgorithm {
			fmt.Fprintf(out, "unsupported key: %s (%s %s)\n", keyID(line), err, keyAlgorithm(line))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s line %d: note.NewVerifier: %v", path, i+1, err)
		}
		fmt.Fprintf(out, "key: %s+%08x\n", v.Name(), v.KeyHash())
		verifiers = append(verifiers, v)
	}
	if len(verifiers) == 0 {
		return nil, fmt.Errorf("%s holds no verifier key that Go supports", path)
	}
	return verifiers, nil
}

func keyID(vkey string) string {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) < 2 {
		return vkey
	}
	return parts[0] + "+" + parts[1]
}

func keyAlgorithm(vkey string) string {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return "?"
	}
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) == 0 {
		return "?"
	}
	return fmt.Sprintf("0x%02x", key[0])
}

// parseCheckpointBody parses the first three lines of a C2SP tlog-checkpoint. Go 1.19's
// x/mod has tlog.ParseTree only for the older "go.sum database tree" header, so this is
// by hand. Lines after the third are extension lines and must not be empty.
func parseCheckpointBody(text string) (*checkpoint, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, errors.New("checkpoint body does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("checkpoint body has %d lines; want origin, size and root hash", len(lines))
	}
	origin, sizeText, rootText := lines[0], lines[1], lines[2]
	if origin == "" {
		return nil, errors.New("checkpoint origin line is empty")
	}
	size, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != sizeText {
		return nil, fmt.Errorf("checkpoint size line %q is not a canonical decimal number", sizeText)
	}
	root, err := tlog.ParseHash(rootText)
	if err != nil || root.String() != rootText {
		return nil, fmt.Errorf("checkpoint root hash line %q is not canonical base64 of 32 bytes", rootText)
	}
	for i, ext := range lines[3:] {
		if ext == "" {
			return nil, fmt.Errorf("checkpoint extension line %d is empty", i+4)
		}
	}
	return &checkpoint{origin: origin, tree: tlog.Tree{N: size, Hash: root}}, nil
}

// inclusionJSON is 'enclave ledger prove --json'. Hashes are decoded as JSON strings
// first and then with tlog.ParseHash (see checkTlogJSON for why not into tlog.Hash).
type inclusionJSON struct {
	Index    *int64   `json:"index"`
	TreeSize *int64   `json:"treeSize"`
	LeafHash string   `json:"leafHash"`
	RootHash string   `json:"rootHash"`
	Proof    []string `json:"proof"`
}

// consistencyJSON is 'enclave ledger consistency --json'.
type consistencyJSON struct {
	From        *int64   `json:"from"`
	To          *int64   `json:"to"`
	OldRootHash string   `json:"oldRootHash"`
	NewRootHash string   `json:"newRootHash"`
	Proof       []string `json:"proof"`
}

func checkInclusion(out io.Writer, cp *checkpoint, proofPath, entryPath string) error {
	var p inclusionJSON
	if err := readJSON(proofPath, &p); err != nil {
		return err
	}
	if p.Index == nil || p.TreeSize == nil {
		return fmt.Errorf("%s: index or treeSize is missing", proofPath)
	}
	proof, err := parseHashes(proofPath, p.Proof)
	if err != nil {
		return err
	}
	entry, err := readBounded(entryPath, maxEntryBytes)
	if err != nil {
		return err
	}
	leaf := tlog.RecordHash(entry)

	// The proof must be for the signed tree, and its stated hashes must be what they claim.
	if *p.TreeSize != cp.tree.N {
		return fmt.Errorf("%s: proof is for tree size %d, the checkpoint %s has size %d", proofPath, *p.TreeSize, cp.path, cp.tree.N)
	}
	if p.RootHash != cp.tree.Hash.String() {
		return fmt.Errorf("%s: rootHash %s is not the checkpoint's root %s", proofPath, p.RootHash, cp.tree.Hash)
	}
	if p.LeafHash != leaf.String() {
		return fmt.Errorf("%s: leafHash %s is not tlog.RecordHash of %s (%s)", proofPath, p.LeafHash, entryPath, leaf)
	}
	if err := tlog.CheckRecord(tlog.RecordProof(proof), cp.tree.N, cp.tree.Hash, *p.Index, leaf); err != nil {
		return fmt.Errorf("tlog.CheckRecord rejected the inclusion proof of entry %d in tree %d: %v", *p.Index, cp.tree.N, err)
	}
	fmt.Fprintf(out, "inclusion ok: entry %d (%d bytes, leaf %s) is in the tree of size %d (%d proof hashes)\n", *p.Index, len(entry), leaf, cp.tree.N, len(proof))
	return nil
}

func checkConsistency(out io.Writer, old, cp *checkpoint, proofPath string) error {
	var p consistencyJSON
	if err := readJSON(proofPath, &p); err != nil {
		return err
	}
	if p.From == nil || p.To == nil {
		return fmt.Errorf("%s: from or to is missing", proofPath)
	}
	proof, err := parseHashes(proofPath, p.Proof)
	if err != nil {
		return err
	}
	if *p.From != old.tree.N || *p.To != cp.tree.N {
		return fmt.Errorf("%s: proof is from %d to %d, the checkpoints have sizes %d and %d", proofPath, *p.From, *p.To, old.tree.N, cp.tree.N)
	}
	if p.OldRootHash != old.tree.Hash.String() || p.NewRootHash != cp.tree.Hash.String() {
		return fmt.Errorf("%s: oldRootHash/newRootHash %s/%s are not the checkpoints' roots %s/%s", proofPath, p.OldRootHash, p.NewRootHash, old.tree.Hash, cp.tree.Hash)
	}
	if err := tlog.CheckTree(tlog.TreeProof(proof), cp.tree.N, cp.tree.Hash, old.tree.N, old.tree.Hash); err != nil {
		return fmt.Errorf("tlog.CheckTree rejected the consistency proof from %d to %d: %v", old.tree.N, cp.tree.N, err)
	}
	fmt.Fprintf(out, "consistency ok: the tree of size %d extends the tree of size %d (%d proof hashes)\n", cp.tree.N, old.tree.N, len(proof))
	return nil
}

// checkTlogJSON decodes proof hashes straight into tlog.Hash, as a Go client using x/mod's
// types would (tlog.Hash implements json.Unmarshaler). Hash.UnmarshalJSON looks at the raw
// JSON bytes and accepts only a plain "<44 base64 characters>" string, so a hash whose JSON
// string escapes a character (System.Text.Json's default encoder writes '+' as \u002B) fails
// there although the JSON is valid.
func checkTlogJSON(out io.Writer, proofPath string) error {
	var p struct {
		LeafHash    *tlog.Hash  `json:"leafHash"`
		RootHash    *tlog.Hash  `json:"rootHash"`
		OldRootHash *tlog.Hash  `json:"oldRootHash"`
		NewRootHash *tlog.Hash  `json:"newRootHash"`
		Proof       []tlog.Hash `json:"proof"`
	}
	if err := readJSON(proofPath, &p); err != nil {
		return fmt.Errorf("%v (tlog.Hash.UnmarshalJSON takes only unescaped base64 strings)", err)
	}
	fmt.Fprintf(out, "tlog json ok: %d proof hashes and the stated hashes decode as tlog.Hash\n", len(p.Proof))
	return nil
}

// checkTiles recomputes the checkpoint's root from an export in C2SP tlog-tiles layout, three ways:
//  1. the level-0 tiles alone: concatenate the leaf hashes and fold them with tlog's own
//     algorithm (tlog.StoredHashesForRecordHash to build the stored hashes, then tlog.TreeHash);
//  2. the entry bundles: each entry (2-byte big-endian length, then the bytes) must hash with
//     tlog.RecordHash to the leaf hash at its index;
//  3. tlog.TileHashReader, which authenticates the hash tiles it reads, all levels, against
//     the tree hash; the tiles are read from C2SP paths.
func checkTiles(out io.Writer, cp *checkpoint, dir string) error {
	n := cp.tree.N
	if n == 0 || n > maxTreeSize {
		return fmt.Errorf("tiles check supports tree sizes 1 to %d; the checkpoint has %d", int64(maxTreeSize), n)
	}

	// 1. Level-0 tiles.
	leaves := make([]tlog.Hash, 0, n)
	tiles := 0
	for start := int64(0); start < n; start += tileWidth {
		t := tlog.Tile{H: tileHeight, L: 0, N: start / tileWidth, W: int(min64(tileWidth, n-start))}
		data, err := readTile(dir, t)
		if err != nil {
			return err
		}
		for i := 0; i < t.W; i++ {
			var h tlog.Hash
			copy(h[:], data[i*tlog.HashSize:])
			leaves = append(leaves, h)
		}
		tiles++
	}
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		hashes := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("stored hash %d not computed", x)
			}
			hashes[i] = stored[x]
		}
		return hashes, nil
	})
	for i, leaf := range leaves {
		more, err := tlog.StoredHashesForRecordHash(int64(i), leaf, reader)
		if err != nil {
			return fmt.Errorf("tlog.StoredHashesForRecordHash(%d): %v", i, err)
		}
		stored = append(stored, more...)
	}
	root, err := tlog.TreeHash(n, reader)
	if err != nil {
		return fmt.Errorf("tlog.TreeHash: %v", err)
	}
	if root != cp.tree.Hash {
		return fmt.Errorf("the %d level-0 tiles in %s give root %s, the checkpoint says %s", tiles, dir, root, cp.tree.Hash)
	}
	fmt.Fprintf(out, "level-0 tiles ok: %d tiles, %d leaf hashes fold to the checkpoint root\n", tiles, len(leaves))

	// 2. Entry bundles.
	bundles, entries := 0, int64(0)
	for start := int64(0); start < n; start += tileWidth {
		t := tlog.Tile{H: tileHeight, L: -1, N: start / tileWidth, W: int(min64(tileWidth, n-start))}
		path := filepath.Join(dir, c2spTilePath(t))
		data, err := readBounded(path, int64(t.W)*(2+65535))
		if err != nil {
			return err
		}
		for i := 0; i < t.W; i++ {
			if len(data) < 2 {
				return fmt.Errorf("%s: entry bundle ends after %d of %d entries", path, i, t.W)
			}
			size := int(binary.BigEndian.Uint16(data))
			if len(data) < 2+size {
				return fmt.Errorf("%s: entry %d is cut short", path, i)
			}
			index := start + int64(i)
			if h := tlog.RecordHash(data[2 : 2+size]); h != leaves[index] {
				return fmt.Errorf("%s: entry %d hashes to %s, the level-0 tile has %s", path, index, h, leaves[index])
			}
			data = data[2+size:]
			entries++
		}
		if len(data) != 0 {
			return fmt.Errorf("%s: %d bytes after the last of %d entries", path, len(data), t.W)
		}
		bundles++
	}
	fmt.Fprintf(out, "entry bundles ok: %d bundles, %d entries hash to the leaf hashes\n", bundles, entries)

	// 3. tlog.TileHashReader over the C2SP hash tiles.
	tr := &dirTileReader{dir: dir, read: map[string]bool{}}
	thr := tlog.TileHashReader(cp.tree, tr)
	th, err := tlog.TreeHash(n, thr)
	if err != nil {
		return fmt.Errorf("tlog.TreeHash over tlog.TileHashReader: %v", err)
	}
	if th != cp.tree.Hash {
		return fmt.Errorf("tlog.TileHashReader gives root %s, the checkpoint says %s", th, cp.tree.Hash)
	}
	indexes := make([]int64, n)
	for i := range indexes {
		indexes[i] = tlog.StoredHashIndex(0, int64(i))
	}
	hashes, err := thr.ReadHashes(indexes)
	if err != nil {
		return fmt.Errorf("tlog.TileHashReader reading every leaf hash: %v", err)
	}
	for i := range hashes {
		if hashes[i] != leaves[i] {
			return fmt.Errorf("tlog.TileHashReader leaf %d is %s, the level-0 tile read directly has %s", i, hashes[i], leaves[i])
		}
	}
	fmt.Fprintf(out, "tile hash reader ok: %d authenticated hash tiles (%s) give the checkpoint root\n", len(tr.read), strings.Join(tr.sorted(), " "))
	return nil
}

// c2spTilePath maps a Go tile to its C2SP tlog-tiles path: tile/<L>/<N>[.p/<W>], with
// tile/entries/ for the data level. Go's Tile.Path is tile/<H>/<L>/<N>[.p/<W>] (data for
// level -1) with the same N encoding, so only the height element and "data" change.
func c2spTilePath(t tlog.Tile) string {
	rest := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", t.H))
	if t.L == -1 {
		rest = "entries" + strings.TrimPrefix(rest, "data")
	}
	return filepath.FromSlash("tile/" + rest)
}

func readTile(dir string, t tlog.Tile) ([]byte, error) {
	path := filepath.Join(dir, c2spTilePath(t))
	data, err := readBounded(path, tileWidth*tlog.HashSize)
	if err != nil {
		return nil, err
	}
	if len(data) != t.W*tlog.HashSize {
		return nil, fmt.Errorf("%s: %d bytes; a tile of width %d has %d", path, len(data), t.W, t.W*tlog.HashSize)
	}
	return data, nil
}

// dirTileReader serves tlog.TileHashReader from an export directory.
type dirTileReader struct {
	dir  string
	read map[string]bool
}

func (r *dirTileReader) Height() int { return tileHeight }

func (r *dirTileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		d, err := readTile(r.dir, t)
		if err != nil {
			return nil, err
		}
		data[i] = d
		r.read[filepath.ToSlash(c2spTilePath(t))] = true
	}
	return data, nil
}

func (r *dirTileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func (r *dirTileReader) sorted() []string {
	var paths []string
	for p := range r.read {
		paths = append(paths, p)
	}
	for i := 1; i < len(paths); i++ {
		for j := i; j > 0 && paths[j] < paths[j-1]; j-- {
			paths[j], paths[j-1] = paths[j-1], paths[j]
		}
	}
	return paths
}

func parseHashes(path string, texts []string) ([]tlog.Hash, error) {
	if len(texts) > maxProofLen {
		return nil, fmt.Errorf("%s: proof has %d hashes; at most %d are possible", path, len(texts), maxProofLen)
	}
	hashes := make([]tlog.Hash, len(texts))
	for i, s := range texts {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("%s: proof hash %d %q: %v", path, i, s, err)
		}
		hashes[i] = h
	}
	return hashes, nil
}

func readJSON(path string, v interface{}) error {
	data, err := readBounded(path, maxProofBytes)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: more than one JSON value", path)
	}
	return nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}
