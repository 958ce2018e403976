// Package smlocal is a local AWS Secrets Manager: an http.Handler that speaks
// the service's wire protocol (AWS JSON 1.1: POST /, X-Amz-Target:
// secretsmanager.<Operation>) with the semantics the AWS Secrets Manager API
// Reference documents, so that the real aws-sdk-go-v2 client, the AWS CLI and
// rotation functions run against it unchanged.
//
// It is for tests and local use only: signatures, regions and accounts in
// requests are accepted, not verified, and anyone who can reach it can
// read every secret. Resource policies are stored and returned, so that
// `verify`-style read-backs can be tested; access decisions are not
// emulated (the IAM evaluation is tested in ops/access).
// Values are kept in memory, and optionally in a JSON state file.
package smlocal

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// maxRequestBytes bounds a request body. The largest legal request (a
// 65,536-byte SecretBinary, base64-encoded, plus the other fields) is far
// below it; anything above is refused before it is decoded.
const maxRequestBytes = 1 << 20

// Options configures a Server. The zero value is usable.
type Options struct {
	// Region and Account go into the ARNs the server mints; they default to
	// us-east-1 and 123456789012.
	Region, Account string
	// Rotator is how RotateSecret reaches the rotation function. When nil,
	// RotateSecret on a secret with a RotationLambdaARN fails with a clear error.
	Rotator Invoker
	// StatePath, when set, is a JSON file that holds the state: loaded by New
	// if it exists and rewritten atomically (temp file + rename) after each
	// change.
	StatePath string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives one structured line per rotation step and per failed
	// rotation; slog.Default() when nil. Secret values are never logged.
	Logger *slog.Logger
	// ShortPages makes ListSecretVersionIds answer as AWS may: "NextToken
	// can occur even when the response includes no values at all"
	// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecretVersionIds.html).
	// The first page holds no version and each later page one, whatever
	// MaxResults asks.
	ShortPages bool
}

// Invoker runs one rotation step. An error stops the rotation at that step
// and leaves AWSPENDING where it is, as the service does.
type Invoker interface {
	Invoke(ctx context.Context, functionARN string, event events.SecretsManagerSecretRotationEvent) error
}

// InvokerFunc adapts a function to Invoker, for in-process rotation functions.
type InvokerFunc func(ctx context.Context, functionARN string, event events.SecretsManagerSecretRotationEvent) error

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, functionARN string, event events.SecretsManagerSecretRotationEvent) error {
	return f(ctx, functionARN, event)
}

// Fault is an answer forced by a fault injector instead of the operation's
// own: an AWS error (e.g. Status 400, Code ThrottlingException; Status 500,
// Code InternalServiceError) or, with DropConnection, a connection closed
// without any answer.
type Fault struct {
	Status         int
	Code, Message  string
	DropConnection bool
}

// Server is an http.Handler speaking AWS JSON 1.1 for Secrets Manager.
// It is safe for concurrent use.
type Server struct {
	region, account string
	rotator         Invoker
	statePath       string
	now             func() time.Time
	log             *slog.Logger
	shortPages      bool

	mu      sync.Mutex
	secrets []*secret // in creation order
	dirty   bool      // state changed since the last save

	faultMu sync.RWMutex
	fault   func(operation string) *Fault

	saveMu sync.Mutex // serialises state file writes
}

var (
	_ http.Handler = (*Server)(nil)
	_ Invoker      = InvokerFunc(nil)
)

// New returns a Server, loading opts.StatePath if that file exists.
func New(opts Options) (*Server, error) {
	s := &Server{
		region:     opts.Region,
		account:    opts.Account,
		rotator:    opts.Rotator,
		statePath:  opts.StatePath,
		now:        opts.Now,
		log:        opts.Logger,
		shortPages: opts.ShortPages,
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.account == "" {
		s.account = "123456789012"
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.statePath != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// SetFaultInjector installs f, called before each operation with the
// operation's name (e.g. "GetSecretValue"); a non-nil *Fault makes the server
// answer with it and skip the operation. nil removes the injector.
func (s *Server) SetFaultInjector(f func(operation string) *Fault) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.fault = f
}

// apiError is an AWS error answer: HTTP status and {"__type", "message"}.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newErr(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// The error codes of the Secrets Manager API Reference, "Common Errors" and
// each operation's "Errors" section.
const (
	codeResourceNotFound = "ResourceNotFoundException"
	codeInvalidRequest   = "InvalidRequestException"
	codeInvalidParameter = "InvalidParameterException"
	codeResourceExists   = "ResourceExistsException"
	codeLimitExceeded    = "LimitExceededException"
	codeMalformedPolicy  = "MalformedPolicyDocumentException"
	codeInvalidNextToken = "InvalidNextTokenException"
	codeInternal         = "InternalServiceError"
	codeValidation       = "ValidationException"
	codeSerialization    = "SerializationException"
	codeUnknownOperation = "UnknownOperationException"
	codeMissingAction    = "MissingAction"
)

// ServeHTTP answers one AWS JSON 1.1 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", newUUID())
	s.handle(w, r)
}

// handle decodes, dispatches and answers; ServeHTTP's body.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	// Common Parameters: the operation is named by X-Amz-Target as
	// "secretsmanager.<Operation>" on POST /.
	if r.Method != http.MethodPost {
		writeErr(w, &apiError{status: http.StatusMethodNotAllowed, code: codeUnknownOperation, message: "Secrets Manager accepts only POST requests."})
		return
	}
	// AWS JSON 1.1: the body is application/x-amz-json-1.1, which the SDKs
	// and the CLI send; anything else (text/plain, form data) is refused
	// rather than guessed at.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-amz-json-1.1" {
		writeErr(w, newErr(codeSerialization, "The request's Content-Type must be application/x-amz-json-1.1 (AWS JSON 1.1)."))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	if target == "" {
		writeErr(w, newErr(codeMissingAction, "Missing X-Amz-Target header: the request does not name an operation."))
		return
	}
	op, found := strings.CutPrefix(target, "secretsmanager.")
	h, known := handlers[op]
	if !found || !known {
		writeErr(w, newErr(codeUnknownOperation, "Unknown operation %q.", target))
		return
	}
	s.faultMu.RLock()
	inject := s.fault
	s.faultMu.RUnlock()
	if inject != nil {
		if f := inject(op); f != nil {
			s.writeFault(w, f)
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		writeErr(w, &apiError{status: http.StatusRequestEntityTooLarge, code: codeSerialization, message: fmt.Sprintf("The request body is larger than %d bytes.", maxRequestBytes)})
		return
	}
	out, aerr := h(s, r.Context(), body)
	s.persist()
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	if f.DropConnection {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		// Not hijackable (HTTP/2, a recorder): abort the handler, which makes
		// net/http drop the stream or connection.
		panic(http.ErrAbortHandler)
	}
	status := f.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	code := f.Code
	if code == "" {
		code = codeInternal
	}
	msg := f.Message
	if msg == "" {
		msg = "fault injected by smlocal"
	}
	writeErr(w, &apiError{status: status, code: code, message: msg})
}

func writeErr(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.message})
}

// load reads the state file; a missing file is an empty state.
func (s *Server) load() error {
	data, err := os.ReadFile(s.statePath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("smlocal: read state: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("smlocal: state file %s is not valid JSON state: %w", s.statePath, err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("smlocal: state file %s has version %d, want %d", s.statePath, st.Version, stateVersion)
	}
	s.secrets = st.Secrets
	return nil
}

// stateVersion is the state file's format version.
const stateVersion = 1

// stateFile is the JSON state file's layout.
type stateFile struct {
	Version int       `json:"version"`
	Secrets []*secret `json:"secrets"`
}

// persist writes the state file if the state changed. saveMu is held from
// snapshot to rename so that saves land in the order of their snapshots;
// the state lock is held only for the snapshot. A failed write is logged:
// the change has happened in memory and the next change retries the write.
func (s *Server) persist() {
	if s.statePath == "" {
		return
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return
	}
	data := s.snapshotLocked()
	s.dirty = false
	s.mu.Unlock()
	if err := s.save(data); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		s.log.Error("smlocal: cannot save state", "path", s.statePath, "error", err.Error())
	}
}

// snapshotLocked encodes the state; the caller holds s.mu.
func (s *Server) snapshotLocked() []byte {
	data, err := json.MarshalIndent(stateFile{Version: stateVersion, Secrets: s.secrets}, "", "  ")
	if err != nil {
		// The state holds only JSON-safe types; a failure is a bug.
		panic(fmt.Sprintf("smlocal: encode state: %v", err))
	}
	return data
}

// save writes a snapshot atomically: a temp file in the same directory, then
// rename, so a crash leaves either the old or the new state, never half.
func (s *Server) save(data []byte) error {
	dir := filepath.Dir(s.statePath)
	f, err := os.CreateTemp(dir, ".smlocal-state-*")
	if err != nil {
		return fmt.Errorf("smlocal: write state: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("smlocal: write state: %w", err)
	}
	if err := os.Rename(tmp, s.statePath); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("smlocal: write state: %w", err)
	}
	return nil
}

// newUUID returns a random (version 4) UUID: the form the SDKs use for
// ClientRequestToken and Secrets Manager for version ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
