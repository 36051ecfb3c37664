// Package httpx holds what every Sportello HTTP surface shares: the
// middleware chain (request id and log, recover, metrics), JSON decoding with
// size limits, and the one adapter that turns a handler's error into a
// status and an RFC 9457 problem document. It imports no domain package:
// errors are classified by the kinds in package fault.
package httpx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/fault"
)

// HandlerFunc is a handler that returns its error for the adapter to map.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string          `json:"type"`
	Title     string          `json:"title"`
	Status    int             `json:"status"`
	Detail    string          `json:"detail,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Errors    []fault.Problem `json:"errors,omitempty"`
}

// Error is an error with an explicit status, for conditions that belong to
// HTTP itself (bad JSON, body too large, unsupported media type).
type Error struct {
	Status int
	Detail string
	Errors []fault.Problem
}

func (e *Error) Error() string { return e.Detail }

// Status maps an error to its HTTP status by its fault kind.
func Status(err error) int {
	var he *Error
	switch {
	case errors.As(err, &he):
		return he.Status
	case errors.Is(err, fault.Conflict):
		return http.StatusConflict
	case errors.Is(err, fault.Invalid):
		return http.StatusUnprocessableEntity
	case errors.Is(err, fault.NotFound):
		return http.StatusNotFound
	case errors.Is(err, fault.Unauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, fault.Forbidden):
		return http.StatusForbidden
	case errors.Is(err, fault.TooMany):
		return http.StatusTooManyRequests
	case errors.Is(err, fault.Stale):
		return http.StatusPreconditionFailed
	case errors.Is(err, context.Canceled):
		return 499
	}
	return http.StatusInternalServerError
}

// ProblemFor builds the problem document for err. Internal errors never
// leak their text to the client; they are logged with the request id.
func ProblemFor(r *http.Request, err error) Problem {
	st := Status(err)
	p := Problem{Type: "about:blank", Title: http.StatusText(st), Status: st, RequestID: RequestID(r.Context())}
	if st == 499 {
		p.Title = "Client Closed Request"
	}
	if st < 500 {
		p.Detail = err.Error()
		// Domain errors end with their kind ("…: unauthorized"); the title
		// already says it.
		for _, k := range []error{fault.NotFound, fault.Conflict, fault.Forbidden, fault.Unauthorized, fault.TooMany, fault.Stale} {
			p.Detail = strings.TrimSuffix(p.Detail, ": "+k.Error())
		}
	}
	var ve *fault.ValidationError
	var he *Error
	switch {
	case errors.As(err, &he):
		p.Detail, p.Errors = he.Detail, he.Errors
	case errors.As(err, &ve):
		p.Errors = ve.Problems
		if len(ve.Problems) == 1 {
			p.Detail = ve.Problems[0].Field + ": " + ve.Problems[0].Detail
		}
	}
	if st == http.StatusUnprocessableEntity || (st == http.StatusConflict && len(p.Errors) > 0) {
		p.Type = "https://sportello.dev/problems/validation"
	}
	return p
}

// WriteProblem writes err as application/problem+json and logs server errors.
func WriteProblem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := ProblemFor(r, err)
	if p.Status >= 500 && p.Status != 499 {
		log.ErrorContext(r.Context(), "request failed", "request_id", p.RequestID, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sportello"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// JSON writes v with status.
func JSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// Decode reads a JSON body of at most limit bytes into v, rejecting unknown
// fields and trailing data. Errors say what was wrong and where.
func Decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &Error{Status: http.StatusUnsupportedMediaType, Detail: "the body must be application/json"}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return decodeError(err, limit)
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD without a word;
	// the client is told instead, as for NUL characters below.
	if !utf8.Valid(raw) {
		return fault.Field("body", "utf8", "must be UTF-8 text")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err, limit)
		}
		return &Error{Status: http.StatusBadRequest, Detail: "the body must hold a single JSON object"}
	}
	return checkDecoded(reflect.ValueOf(v), "")
}

func decodeError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("the body is larger than %d bytes", limit)}
	case errors.As(err, &se):
		return &Error{Status: http.StatusBadRequest, Detail: fmt.Sprintf("malformed JSON at byte %d", se.Offset)}
	case errors.Is(err, io.EOF):
		return &Error{Status: http.StatusBadRequest, Detail: "the body is empty; a JSON object is required"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Detail: "malformed JSON: the body ends too soon"}
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		return &Error{Status: http.StatusBadRequest, Detail: fmt.Sprintf("%s must be %s", field, jsonKind(te.Type.String())),
			Errors: []fault.Problem{{Field: field, Rule: "type", Detail: "must be " + jsonKind(te.Type.String())}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{Status: http.StatusBadRequest, Detail: "unknown field " + name,
			Errors: []fault.Problem{{Field: name, Rule: "unknown_field", Detail: "this field is not accepted here"}}}
	}
	return &Error{Status: http.StatusBadRequest, Detail: "malformed JSON: " + err.Error()}
}

func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

type ctxKey int

const requestIDKey ctxKey = 0

// RequestID returns the request's id, set by Chain.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flush, SSE).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Observer receives one call per finished request (metrics).
type Observer func(method, pattern string, status int, d time.Duration)

// Chain wraps h with request id + access log, recover, and observation.
// The pattern reported is the ServeMux pattern, so metrics stay bounded.
func Chain(h http.Handler, log *slog.Logger, observe Observer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic serving request", "request_id", id, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					WriteProblem(sw, r, log, errors.New("internal panic"))
				}
			}
			d := time.Since(start)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			pattern := r.Pattern
			if pattern == "" {
				pattern = "unmatched"
			}
			if observe != nil {
				observe(r.Method, pattern, sw.status, d)
			}
			log.Debug("request", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", sw.status, "bytes", sw.bytes, "duration", d)
		}()
		h.ServeHTTP(sw, r)
	})
}

// Proxies are the reverse proxies whose X-Forwarded-For Sportello believes
// (--trust-proxy with --trusted-proxies). A nil *Proxies trusts none.
type Proxies struct{ nets []netip.Prefix }

// DefaultTrustedProxies are loopback and the private ranges: where a
// reverse proxy in front of Sportello usually stands.
const DefaultTrustedProxies = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"

// ParseProxies reads a comma-separated list of CIDR prefixes or addresses.
func ParseProxies(list string) (*Proxies, error) {
	p := &Proxies{}
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or a CIDR prefix", f)
			}
			p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		n, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a CIDR prefix", f)
		}
		p.nets = append(p.nets, n.Masked())
	}
	return p, nil
}

func (p *Proxies) trusts(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the address of the client that sent r. The connection's
// address is the answer unless it is one of the trusted proxies; then
// X-Forwarded-For is read from the right (each proxy appends the address
// it received from) and the first address that is not a trusted proxy is
// the client. The left-most entries are whatever the client wrote and are
// never believed on their own.
func ClientIP(r *http.Request, proxies *Proxies) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if proxies == nil || !proxies.trusts(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		if _, err := netip.ParseAddr(h); err != nil {
			return host // a malformed hop: believe only the connection
		}
		if !proxies.trusts(h) {
			return h
		}
		host = h
	}
	return host
}
