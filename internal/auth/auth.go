// Package auth signs agents in: argon2id password hashes, database-backed
// sessions (so they work across nodes), hashed API tokens, and login
// throttling per account (lockout stored in the database) and per client
// address (in memory, per node).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/time/rate"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
)

// Errors.
var (
	ErrNoSession      = fmt.Errorf("session %w", fault.Unauthorized)
	ErrBadCredentials = fmt.Errorf("wrong email or password: %w", fault.Unauthorized)
	ErrLocked         = fmt.Errorf("account temporarily locked after repeated failures: %w", fault.TooMany)
	ErrThrottled      = fmt.Errorf("too many sign-in attempts from this address: %w", fault.TooMany)
	ErrTokenNotFound  = fmt.Errorf("token %w", fault.NotFound)
)

// argon2id parameters (RFC 9106 second recommendation, memory-constrained).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// HashPassword returns a PHC-formatted argon2id hash.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b.EncodeToString(salt), b.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches a hash made by HashPassword.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b := base64.RawStdEncoding
	salt, err1 := b.DecodeString(parts[4])
	want, err2 := b.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// CheckNewPassword enforces the password rule of NIST SP 800-63B: 10 to
// 200 characters (counted as characters, not bytes), not one of the most
// common passwords (the shipped list), not one character repeated, and not
// built from context the attacker knows (the desk's name, the agent's
// email or name, given as context). Problems name field with the rule:
// min_length, common or context.
func CheckNewPassword(field, pw string, context ...string) error {
	n := utf8.RuneCountInString(pw)
	if n < 10 || n > 200 {
		return fault.Field(field, "min_length", "a password needs 10 to 200 characters")
	}
	low := strings.ToLower(pw)
	if commonPasswords()[low] || strings.Count(low, string([]rune(low)[0])) == n {
		return fault.Field(field, "common", "this password is among the most common ones; choose another")
	}
	// What is left once the context words are taken out must still be a
	// password of its own (six characters or more).
	rest, used := low, false
	for _, w := range append([]string{"sportello"}, context...) {
		for _, part := range strings.FieldsFunc(strings.ToLower(w), func(r rune) bool { return r == '@' || r == '.' || r == ' ' || r == '-' || r == '_' }) {
			if utf8.RuneCountInString(part) >= 4 && strings.Contains(rest, part) {
				rest, used = strings.ReplaceAll(rest, part, ""), true
			}
		}
	}
	rest = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, rest)
	if used && utf8.RuneCountInString(rest) < 6 {
		return fault.Field(field, "context", "the password is built from your name, email or the desk's name; choose another")
	}
	return nil
}

//go:embed common-passwords.txt
var commonList string

var commonOnce = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
})

func commonPasswords() map[string]bool { return commonOnce() }

// RandomSecret returns n random bytes, URL-safe base64 encoded.
func RandomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how session and API tokens are stored: they carry 256 bits
// of entropy, so a fast hash suffices and lookups stay indexable.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// TokenPrefix marks Sportello API tokens so secret scanners can spot them.
const TokenPrefix = "spt_"

// Token is an API token's record; the secret itself is never stored.
type Token struct {
	ID         int64      `db:"id"`
	AgentID    int64      `db:"agent_id"`
	Name       string     `db:"name"`
	Hash       string     `db:"token_hash"`
	Prefix     string     `db:"prefix"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
}

// Store is what auth needs from persistence.
type Store interface {
	AgentByEmail(ctx context.Context, email string) (*agent.Agent, error)
	// BeginLoginAttempt counts a sign-in attempt on an account before its
	// password is evaluated, locking the account until lockUntil when the
	// count reaches limit; it returns false (and counts nothing) while the
	// account is locked at now.
	BeginLoginAttempt(ctx context.Context, agentID int64, limit int, now, lockUntil time.Time) (bool, error)
	ResetLoginFailures(ctx context.Context, agentID int64) error
	CreateSession(ctx context.Context, tokenHash string, agentID int64, now, expires time.Time) error
	SessionAgent(ctx context.Context, tokenHash string, now time.Time) (*agent.Agent, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	CreateToken(ctx context.Context, t *Token) error
	TokenAgent(ctx context.Context, hash string, now time.Time) (*agent.Agent, error)
}

// Config tunes sessions and throttling.
type Config struct {
	SessionTTL      time.Duration // default 12h
	MaxFailures     int           // failures before lockout, default 5
	LockoutDuration time.Duration // default 15m
	PerIPRate       rate.Limit    // failed sign-ins per second per address, default 1/6s
	PerIPBurst      int           // default 20
}

// Service signs agents in and resolves credentials to agents.
type Service struct {
	store Store
	now   func() time.Time
	cfg   Config

	mu    sync.Mutex
	perIP map[string]*ipLimiter
	// dummy is a real hash compared against when the email is unknown or
	// the account locked, so that every answer costs one argon2id
	// comparison and timing does not reveal which accounts exist.
	dummy string
}

type ipLimiter struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewService builds the auth service.
func NewService(store Store, now func() time.Time, cfg Config) *Service {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.LockoutDuration <= 0 {
		cfg.LockoutDuration = 15 * time.Minute
	}
	if cfg.PerIPRate <= 0 {
		cfg.PerIPRate = rate.Every(6 * time.Second)
	}
	if cfg.PerIPBurst <= 0 {
		cfg.PerIPBurst = 20
	}
	s := &Service{store: store, now: now, cfg: cfg, perIP: map[string]*ipLimiter{}}
	// Made now, not on first use: the first sign-in with an unknown email
	// would otherwise take two hashes' time and tell it apart.
	s.dummy, _ = HashPassword(RandomSecret(16))
	return s
}

// SessionTTL is how long a new session lasts.
func (s *Service) SessionTTL() time.Duration { return s.cfg.SessionTTL }

// limiter returns the failure budget of a client address.
func (s *Service) limiter(ip string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.perIP) > 10000 { // forget idle addresses so memory stays bounded
		for k, l := range s.perIP {
			if now.Sub(l.seen) > time.Hour {
				delete(s.perIP, k)
			}
		}
	}
	l, ok := s.perIP[ip]
	if !ok {
		l = &ipLimiter{lim: rate.NewLimiter(s.cfg.PerIPRate, s.cfg.PerIPBurst)}
		s.perIP[ip] = l
	}
	l.seen = now
	return l.lim
}

// Login checks credentials and returns a new session token (to set as a
// cookie) with its agent.
//
// Throttling: a client address has a budget of failed sign-ins (successful
// ones cost nothing, so one colleague's typos do not lock out an office
// behind the same NAT); an account is locked for LockoutDuration after
// MaxFailures failures in a row, each attempt counted in the database
// before its password is evaluated, so parallel guesses cannot outrun the
// lock. Every answer costs one password comparison, whether the account
// exists, is locked or inactive.
func (s *Service) Login(ctx context.Context, email, password, ip string) (string, *agent.Agent, error) {
	lim := s.limiter(ip)
	if lim.TokensAt(s.now()) < 1 {
		return "", nil, ErrThrottled
	}
	a, err := s.store.AgentByEmail(ctx, email)
	if errors.Is(err, agent.ErrNotFound) {
		CheckPassword(s.dummy, password)
		lim.AllowN(s.now(), 1)
		return "", nil, ErrBadCredentials
	}
	if err != nil {
		return "", nil, err
	}
	if err := s.attempt(ctx, a, password); err != nil {
		if errors.Is(err, ErrBadCredentials) {
			lim.AllowN(s.now(), 1)
		}
		return "", nil, err
	}
	tok, err := s.NewSession(ctx, a.ID)
	if err != nil {
		return "", nil, err
	}
	return tok, a, nil
}

// attempt counts one password attempt on a's account, then evaluates it:
// ErrLocked while the account is locked, ErrBadCredentials for a wrong
// password or an inactive account; a right one clears the count.
func (s *Service) attempt(ctx context.Context, a *agent.Agent, password string) error {
	now := s.now()
	ok, err := s.store.BeginLoginAttempt(ctx, a.ID, s.cfg.MaxFailures, now, now.Add(s.cfg.LockoutDuration))
	if err != nil {
		return err
	}
	if !ok {
		CheckPassword(s.dummy, password)
		return ErrLocked
	}
	good := CheckPassword(a.PasswordHash, password)
	if !good || !a.Active {
		return ErrBadCredentials
	}
	return s.store.ResetLoginFailures(ctx, a.ID)
}

// VerifyPassword checks a signed-in agent's current password (before a
// password change) under the same lockout as signing in: guesses through
// a stolen session are throttled too. It returns nil, ErrLocked or
// ErrBadCredentials.
func (s *Service) VerifyPassword(ctx context.Context, a *agent.Agent, password string) error {
	return s.attempt(ctx, a, password)
}

// NewSession creates a session for an agent and returns its token.
func (s *Service) NewSession(ctx context.Context, agentID int64) (string, error) {
	tok := RandomSecret(32)
	now := s.now()
	if err := s.store.CreateSession(ctx, HashToken(tok), agentID, now, now.Add(s.cfg.SessionTTL)); err != nil {
		return "", err
	}
	return tok, nil
}

// Session resolves a session token to its active agent.
func (s *Service) Session(ctx context.Context, tok string) (*agent.Agent, error) {
	if tok == "" {
		return nil, ErrNoSession
	}
	return s.store.SessionAgent(ctx, HashToken(tok), s.now())
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, tok string) error {
	return s.store.DeleteSession(ctx, HashToken(tok))
}

// NewToken creates an API token for an agent; the secret is returned once.
func (s *Service) NewToken(ctx context.Context, agentID int64, name string) (string, *Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, fault.Field("name", "required", "must be 1 to 100 characters")
	}
	secret := TokenPrefix + RandomSecret(32)
	t := &Token{AgentID: agentID, Name: name, Hash: HashToken(secret), Prefix: secret[:len(TokenPrefix)+6], CreatedAt: s.now()}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// Bearer resolves an API token to its active agent.
func (s *Service) Bearer(ctx context.Context, secret string) (*agent.Agent, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, ErrNoSession
	}
	return s.store.TokenAgent(ctx, HashToken(secret), s.now())
}
