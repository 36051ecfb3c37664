// Package config reads Sportello's settings: command-line flags first, then
// SPORTELLO_* environment variables, then defaults. Everything lives in one
// Config value passed down by app; there are no globals.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/sportello/sportello/internal/httpx"
)

// Config holds every setting of a Sportello process.
type Config struct {
	Addr        string // listen address
	DataDir     string // SQLite file, attachments, generated secrets
	DatabaseURL string // postgres://… switches to PostgreSQL
	BaseURL     string // public URL, used in links and to decide Secure cookies
	Demo        bool   // fill an empty database with demo data
	LogFormat   string // text or json
	LogLevel    string // debug, info, warn, error
	AdminEmail  string // email of the admin created on first start
	TrustProxy  bool   // take client addresses from X-Forwarded-For
	// TrustedProxies lists the proxies (CIDR prefixes) whose
	// X-Forwarded-For entries are believed when TrustProxy is on.
	TrustedProxies string
	MaxBodyMB      int // limit for JSON bodies without attachments
	MaxUploadMB    int // limit for bodies carrying attachments
	// AutoCloseDays closes solved tickets the customer has not answered
	// after this many days (DOMAIN.md §2); 0 turns it off.
	AutoCloseDays int
	// SLAScanSeconds is how often SLA warnings and breaches are looked
	// for: an alarm fires at most this late.
	SLAScanSeconds int
	// SMTPAddr, when set, starts the built-in SMTP listener there: a
	// mail server delivers the desk's mail to it.
	SMTPAddr string
	// SMTPMaxMB bounds one inbound mail.
	SMTPMaxMB int
	// SecretKey (base64, 32 bytes) seals mailbox passwords; without it a
	// key is generated into the data folder (give several nodes the same).
	SecretKey string
}

// Defaults returns the built-in settings.
func Defaults() Config {
	return Config{
		Addr: "127.0.0.1:8080", DataDir: "./sportello-data", LogFormat: "text", LogLevel: "info", TrustedProxies: httpx.DefaultTrustedProxies,
		AdminEmail: "admin@sportello.local", MaxBodyMB: 1, MaxUploadMB: 35, AutoCloseDays: 4, SLAScanSeconds: 15, SMTPMaxMB: 35,
	}
}

// FlagSet declares the serve flags on fs, with defaults taken from the
// environment (SPORTELLO_ADDR, SPORTELLO_DATA, …) where set.
func (c *Config) FlagSet(fs *flag.FlagSet, getenv func(string) string) {
	str := func(p *string, name, env, usage string) {
		if v := getenv(env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" (env "+env+")")
	}
	str(&c.DataDir, "data", "SPORTELLO_DATA", "data folder: SQLite file, attachments")
	str(&c.DatabaseURL, "database", "SPORTELLO_DATABASE", "database URL; postgres://… uses PostgreSQL, empty uses SQLite in the data folder")
	str(&c.LogFormat, "log-format", "SPORTELLO_LOG_FORMAT", "log format: text or json")
	str(&c.LogLevel, "log-level", "SPORTELLO_LOG_LEVEL", "log level: debug, info, warn, error")
}

// ServeFlags declares the flags only the server uses.
func (c *Config) ServeFlags(fs *flag.FlagSet, getenv func(string) string) {
	str := func(p *string, name, env, usage string) {
		if v := getenv(env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" (env "+env+")")
	}
	boolean := func(p *bool, name, env, usage string) {
		if v := getenv(env); v != "" {
			*p = v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "yes")
		}
		fs.BoolVar(p, name, *p, usage+" (env "+env+")")
	}
	integer := func(p *int, name, env, usage string) {
		if v := getenv(env); v != "" {
			fmt.Sscan(v, p)
		}
		fs.IntVar(p, name, *p, usage+" (env "+env+")")
	}
	str(&c.Addr, "addr", "SPORTELLO_ADDR", "listen address")
	str(&c.BaseURL, "base-url", "SPORTELLO_BASE_URL", "public URL of the desk (default http://<addr>)")
	boolean(&c.Demo, "demo", "SPORTELLO_DEMO", "fill an empty database with demo data")
	str(&c.AdminEmail, "admin-email", "SPORTELLO_ADMIN_EMAIL", "email of the admin created on first start")
	boolean(&c.TrustProxy, "trust-proxy", "SPORTELLO_TRUST_PROXY", "trust X-Forwarded-For (only behind your own reverse proxy)")
	str(&c.TrustedProxies, "trusted-proxies", "SPORTELLO_TRUSTED_PROXIES", "with --trust-proxy: comma-separated CIDR prefixes of your proxies; the client is the right-most X-Forwarded-For hop outside them")
	integer(&c.MaxBodyMB, "max-body-mb", "SPORTELLO_MAX_BODY_MB", "largest JSON body in MiB")
	integer(&c.MaxUploadMB, "max-upload-mb", "SPORTELLO_MAX_UPLOAD_MB", "largest body with attachments in MiB")
	integer(&c.AutoCloseDays, "auto-close-days", "SPORTELLO_AUTO_CLOSE_DAYS", "close solved tickets after this many days without a customer reply (0: never)")
	str(&c.SMTPAddr, "smtp-addr", "SPORTELLO_SMTP_ADDR", "start the built-in SMTP listener at host:port (off when empty)")
	integer(&c.SMTPMaxMB, "smtp-max-mb", "SPORTELLO_SMTP_MAX_MB", "largest inbound mail in MiB")
	str(&c.SecretKey, "secret-key", "SPORTELLO_SECRET_KEY", "base64 32-byte key that seals mailbox passwords (default: generated into the data folder)")
	integer(&c.SLAScanSeconds, "sla-scan-seconds", "SPORTELLO_SLA_SCAN_SECONDS", "how often SLA warnings and breaches are checked, in seconds")
}

// Parse reads args into a Config for the named command.
func Parse(name string, args []string, getenv func(string) string, stderr io.Writer, serve bool) (Config, *flag.FlagSet, error) {
	c := Defaults()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.FlagSet(fs, getenv)
	if serve {
		c.ServeFlags(fs, getenv)
	}
	if err := fs.Parse(args); err != nil {
		return c, fs, err
	}
	return c, fs, c.Validate()
}

// Validate checks the settings and fills derived ones.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q: must be host:port", c.Addr))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: must be text or json", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: must be debug, info, warn or error", c.LogLevel))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.HasPrefix(c.DatabaseURL, "sqlite://") {
		errs = append(errs, errors.New("--database: must be a postgres:// or sqlite:// URL"))
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("--base-url %q: must be an http(s) URL", c.BaseURL))
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.AutoCloseDays < 0 || c.AutoCloseDays > 365 {
		errs = append(errs, fmt.Errorf("--auto-close-days %d: must be 0 to 365", c.AutoCloseDays))
	}
	if c.SLAScanSeconds < 1 || c.SLAScanSeconds > 3600 {
		errs = append(errs, fmt.Errorf("--sla-scan-seconds %d: must be 1 to 3600", c.SLAScanSeconds))
	}
	if _, err := httpx.ParseProxies(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("--trusted-proxies: %w", err))
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("--smtp-addr %q: must be host:port", c.SMTPAddr))
		}
	}
	if c.SMTPMaxMB < 1 || c.SMTPMaxMB > 200 {
		errs = append(errs, fmt.Errorf("--smtp-max-mb %d: must be 1 to 200", c.SMTPMaxMB))
	}
	if c.MaxBodyMB < 1 || c.MaxUploadMB < 1 {
		errs = append(errs, errors.New("--max-body-mb and --max-upload-mb must be at least 1"))
	}
	return errors.Join(errs...)
}

// Proxies returns the proxies to believe, or nil without --trust-proxy.
func (c *Config) Proxies() *httpx.Proxies {
	if !c.TrustProxy {
		return nil
	}
	p, _ := httpx.ParseProxies(c.TrustedProxies) // checked by Validate
	return p
}

// SecureCookies reports whether the desk is served over https.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }
