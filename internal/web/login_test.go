package web

import "testing"

// Issue 9, defect 10: the sign-in page returns only to paths of this
// desk; what browsers would resolve to another host falls back to "/".
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/tickets/12":                 "/tickets/12",
		"/search?q=stampante#x":       "/search?q=stampante#x",
		"":                            "/",
		"https://evil.example/":       "/",
		"//evil.example/":             "/",
		"/\\evil.example/":            "/",
		"/\t/evil.example/":           "/",
		"/%09/evil.example/":          "/%09/evil.example/", // percent-encoded: a path on this host
		"/\n/evil.example/":           "/",
		"/\r\n/evil.example":          "/",
		" /tickets":                   "/",
		"/ /evil.example":             "/",
		"javascript:alert(1)":         "/",
		"/tickets/1\x00":              "/",
		"/\u00a0/evil.example":        "/",
		"\\\\evil.example":            "/",
		"/tickets/%2F%2Fevil.example": "/tickets/%2F%2Fevil.example",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
