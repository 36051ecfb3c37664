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
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

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

// CheckNewPassword enforces the password rule (length, as NIST 800-63B).
func CheckNewPassword(field, pw string) error {
	if len(pw) < 10 || len(pw) > 200 {
		return fault.Field(field, "min_length", "a password needs 10 to 200 characters")
	}
	return nil
}

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
	RecordLoginFailure(ctx context.Context, agentID int64, limit int, lockUntil time.Time) (int, error)
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
	PerIPRate       rate.Limit    // sign-in attempts per second per address, default 1/6s
	PerIPBurst      int           // default 10
}

// Service signs agents in and resolves credentials to agents.
type Service struct {
	store Store
	now   func() time.Time
	cfg   Config

	mu    sync.Mutex
	perIP map[string]*ipLimiter
	// dummy is a real hash compared against when the email is unknown, so
	// that timing does not reveal which accounts exist. Made on first use:
	// an argon2id hash costs tens of milliseconds.
	dummyOnce sync.Once
	dummy     string
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
		cfg.PerIPBurst = 10
	}
	return &Service{store: store, now: now, cfg: cfg, perIP: map[string]*ipLimiter{}}
}

// SessionTTL is how long a new session lasts.
func (s *Service) SessionTTL() time.Duration { return s.cfg.SessionTTL }

func (s *Service) allowIP(ip string) bool {
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
	return l.lim.AllowN(now, 1)
}

// Login checks credentials and returns a new session token (to set as a
// cookie) with its agent.
func (s *Service) Login(ctx context.Context, email, password, ip string) (string, *agent.Agent, error) {
	if !s.allowIP(ip) {
		return "", nil, ErrThrottled
	}
	now := s.now()
	a, err := s.store.AgentByEmail(ctx, email)
	if errors.Is(err, agent.ErrNotFound) {
		s.dummyOnce.Do(func() { s.dummy, _ = HashPassword(RandomSecret(16)) })
		CheckPassword(s.dummy, password)
		return "", nil, ErrBadCredentials
	}
	if err != nil {
		return "", nil, err
	}
	if a.LockedUntil != nil && now.Before(*a.LockedUntil) {
		return "", nil, ErrLocked
	}
	if !a.Active || !CheckPassword(a.PasswordHash, password) {
		if a.Active {
			if _, err := s.store.RecordLoginFailure(ctx, a.ID, s.cfg.MaxFailures, now.Add(s.cfg.LockoutDuration)); err != nil {
				return "", nil, err
			}
		}
		return "", nil, ErrBadCredentials
	}
	if err := s.store.ResetLoginFailures(ctx, a.ID); err != nil {
		return "", nil, err
	}
	tok, err := s.NewSession(ctx, a.ID)
	if err != nil {
		return "", nil, err
	}
	return tok, a, nil
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
