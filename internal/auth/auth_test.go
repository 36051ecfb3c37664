package auth

import (
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/fault"
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
}

// The password rule of issue 9: characters, not bytes; at least 10; not
// one of the common passwords; not only the agent's name, email or the
// desk's name.
func TestNewPasswordRule(t *testing.T) {
	for _, c := range []struct {
		pw   string
		ctx  []string
		rule string // "" when accepted
	}{
		{"short", nil, "min_length"},
		{"àèìòùàèìò", nil, "min_length"}, // 9 characters, 18 bytes
		{"àèìòùàèìòù", nil, ""},          // 10 characters
		{strings.Repeat("x", 201), nil, "min_length"},
		{"long enough pw", nil, ""},
		{"1234567890", nil, "common"},
		{"Password123", nil, "common"},
		{"QWERTYUIOP", nil, "common"},
		{"forzainter", nil, "common"},
		{"zzzzzzzzzzzz", nil, "common"},
		{"sportello2026", nil, "context"},
		{"saraconti12", []string{"sara.conti@example.com", "Sara Conti"}, "context"},
		{"sara.conti@example.com", []string{"sara.conti@example.com"}, "context"},
		{"conti e il mare d'inverno", []string{"Sara Conti"}, ""},
	} {
		err := CheckNewPassword("new_password", c.pw, c.ctx...)
		got := ""
		var ve *fault.ValidationError
		if err != nil {
			ve = err.(*fault.ValidationError)
			got = ve.Problems[0].Rule
			if ve.Problems[0].Field != "new_password" {
				t.Errorf("%q: field %q", c.pw, ve.Problems[0].Field)
			}
		}
		if got != c.rule {
			t.Errorf("%q (context %v): rule %q, want %q", c.pw, c.ctx, got, c.rule)
		}
	}
}
