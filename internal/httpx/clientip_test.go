package httpx

import (
	"net/http/httptest"
	"testing"
)

// Issue 9, defect 6: behind trusted proxies the client is the right-most
// X-Forwarded-For hop that is not a proxy; what the client writes on the
// left is never believed, and without --trust-proxy the header is ignored.
func TestClientIP(t *testing.T) {
	proxies, err := ParseProxies(DefaultTrustedProxies + ",203.0.113.7")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, remote, xff string
		proxies           *Proxies
		want              string
	}{
		{"no proxy trusted", "198.51.100.9:5000", "1.2.3.4", nil, "198.51.100.9"},
		{"direct client, header ignored", "198.51.100.9:5000", "1.2.3.4", proxies, "198.51.100.9"},
		{"one proxy", "10.0.0.2:40000", "198.51.100.9", proxies, "198.51.100.9"},
		{"client-written entry on the left", "10.0.0.2:40000", "1.2.3.4, 198.51.100.9", proxies, "198.51.100.9"},
		{"two proxies", "10.0.0.2:40000", "1.2.3.4, 198.51.100.9, 203.0.113.7", proxies, "198.51.100.9"},
		{"only proxies", "127.0.0.1:1", "10.0.0.5", proxies, "10.0.0.5"},
		{"garbage hop", "10.0.0.2:40000", "1.2.3.4, nonsense", proxies, "10.0.0.2"},
		{"ipv6 client", "[::1]:8080", "2001:db8::1", proxies, "2001:db8::1"},
		{"no header", "127.0.0.1:1", "", proxies, "127.0.0.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := ClientIP(r, c.proxies); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if _, err := ParseProxies("10.0.0.0/8, not-a-net"); err == nil {
		t.Error("a bad prefix was accepted")
	}
}
