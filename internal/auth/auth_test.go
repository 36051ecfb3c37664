package auth

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash format %q", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password must differ (salt)")
	}
	if !CheckPassword(h, "correct horse battery") || CheckPassword(h, "correct horse batter") || CheckPassword("garbage", "x") || CheckPassword("", "") {
		t.Error("CheckPassword")
	}
	if HashToken("a") == HashToken("b") || len(HashToken("a")) != 64 {
		t.Error("HashToken")
	}
	if CheckNewPassword("p", "short") == nil || CheckNewPassword("p", "long enough pw") != nil {
		t.Error("password rule")
	}
}

// Sign-in attempts from one address are throttled; others are not.
func TestPerAddressThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewService(nil, func() time.Time { return now }, Config{PerIPRate: rate.Every(time.Minute), PerIPBurst: 3})
	for i := 0; i < 3; i++ {
		if !s.allowIP("192.0.2.1") {
			t.Fatalf("attempt %d refused", i)
		}
	}
	if s.allowIP("192.0.2.1") {
		t.Fatal("fourth attempt within the burst allowed")
	}
	if !s.allowIP("192.0.2.2") {
		t.Fatal("another address throttled")
	}
	now = now.Add(time.Minute)
	if !s.allowIP("192.0.2.1") {
		t.Fatal("no attempt allowed after the refill interval")
	}
}
