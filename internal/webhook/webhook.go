// Package webhook calls other systems when tickets change: a subscribed
// URL gets a JSON payload signed with HMAC-SHA256 over a timestamp and the
// body (so a receiver can refuse replays), sent by the job queue with
// retries and backoff, each attempt written to a delivery log.
//
// A webhook may only call http(s) URLs, and never an address on this
// machine or a private network unless an admin allows it for that
// webhook: the check runs when the connection is made, on the address
// actually dialled, so a name that resolves to 127.0.0.1 is refused too.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sportello/sportello/internal/fault"
)

// ErrNotFound is returned when no webhook matches.
var ErrNotFound = fmt.Errorf("webhook %w", fault.NotFound)

// ErrPrivate is returned when a webhook would connect to a loopback,
// private or link-local address it is not allowed to.
var ErrPrivate = errors.New("refused: the address is on this machine or a private network")

// Webhook is one subscription.
type Webhook struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	URL          string    `json:"url"`
	Secret       string    `json:"-"`
	Events       []string  `json:"events"`
	Active       bool      `json:"active"`
	AllowPrivate bool      `json:"allow_private"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Delivery is one attempt to deliver an event.
type Delivery struct {
	ID         int64     `db:"id" json:"id"`
	WebhookID  int64     `db:"webhook_id" json:"webhook_id"`
	Event      string    `db:"event" json:"event"`
	TicketID   *int64    `db:"ticket_id" json:"ticket_id,omitempty"`
	Attempt    int       `db:"attempt" json:"attempt"`
	StatusCode int       `db:"status_code" json:"status_code"`
	OK         bool      `db:"ok" json:"ok"`
	DurationMS int64     `db:"duration_ms" json:"duration_ms"`
	Error      string    `db:"error" json:"error,omitempty"`
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
}

// Check validates a webhook; events must be among known.
func (w *Webhook) Check(known []string) error {
	var ch fault.Checker
	w.Name = strings.TrimSpace(w.Name)
	ch.Check(w.Name != "" && len(w.Name) <= 100, "name", "required", "must be 1 to 100 characters")
	if p := CheckURL(w.URL, w.AllowPrivate); p != "" {
		ch.Add("url", "url", p)
	}
	ch.Check(len(w.Events) > 0, "events", "required", "subscribe to at least one event")
	for i, e := range w.Events {
		ch.Check(slices.Contains(known, e), fmt.Sprintf("events[%d]", i), "enum", fmt.Sprintf("unknown event %q; one of %s", e, strings.Join(known, ", ")))
	}
	return ch.Err()
}

// CheckURL says what is wrong with a webhook URL ("" when nothing).
func CheckURL(raw string, allowPrivate bool) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2000:
		return "must be an http or https URL of at most 2,000 characters"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an http or https URL"
	case u.Hostname() == "":
		return "must name a host"
	case u.User != nil:
		return "must not carry a user name or password (use the signature)"
	}
	if allowPrivate {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") || strings.HasSuffix(host, ".internal") {
		return "points at this machine or a private network; an admin must allow private addresses for this webhook"
	}
	if ip, err := netip.ParseAddr(host); err == nil && private(ip) {
		return "points at this machine or a private network; an admin must allow private addresses for this webhook"
	}
	return ""
}

// private reports whether ip is loopback, private, link-local or
// otherwise not a public unicast address.
func private(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(ip) // carrier-grade NAT
}

// Sign returns the signature header of a body sent at ts:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
func Sign(secret string, ts time.Time, body []byte) string {
	t := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t + "."))
	mac.Write(body)
	return "t=" + t + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header against body, refusing signatures
// older (or newer) than tolerance: what a receiver does, and what the
// tests do.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errors.New("malformed signature header")
	}
	at := time.Unix(n, 0)
	if d := now.Sub(at); d > tolerance || d < -tolerance {
		return errors.New("signature timestamp outside the tolerance (replay?)")
	}
	want := Sign(secret, at, body)
	if !hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig)) {
		return errors.New("signature does not match")
	}
	return nil
}

// Client sends deliveries.
type Client struct {
	public, any *http.Client
}

// NewClient builds the client with a per-request timeout.
func NewClient(timeout time.Duration) *Client {
	mk := func(allowPrivate bool) *http.Client {
		d := &net.Dialer{Timeout: timeout}
		if !allowPrivate {
			d.Control = func(_, address string, _ syscall.RawConn) error {
				host, _, err := net.SplitHostPort(address)
				if err != nil {
					return err
				}
				ip, err := netip.ParseAddr(host)
				if err != nil || private(ip) {
					return ErrPrivate
				}
				return nil
			}
		}
		tr := &http.Transport{DialContext: d.DialContext, Proxy: nil, TLSHandshakeTimeout: timeout,
			ResponseHeaderTimeout: timeout, MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second}
		return &http.Client{Transport: tr, Timeout: timeout,
			// A redirect would be a way round the address check and the
			// signature's meaning: the answer is taken as it is.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Client{public: mk(false), any: mk(true)}
}

// Result is what one delivery got.
type Result struct {
	StatusCode int
	Duration   time.Duration
	Err        error
}

// OK reports a 2xx answer.
func (r Result) OK() bool { return r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300 }

// Send posts body to the webhook, signed at now.
func (c *Client) Send(ctx context.Context, w *Webhook, event string, deliveryID string, body []byte, now time.Time) Result {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Sportello-Webhook/1")
	req.Header.Set("X-Sportello-Event", event)
	req.Header.Set("X-Sportello-Delivery", deliveryID)
	req.Header.Set("X-Sportello-Signature", Sign(w.Secret, now, body))
	hc := c.public
	if w.AllowPrivate {
		hc = c.any
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, ErrPrivate) {
			err = ErrPrivate
		}
		return Result{Duration: time.Since(start), Err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return Result{StatusCode: resp.StatusCode, Duration: time.Since(start)}
}
