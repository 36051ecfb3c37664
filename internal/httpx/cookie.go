package httpx

import (
	"net/http"
	"time"
)

// SessionCookie is the name of the session cookie shared by the workspace
// and the API.
const SessionCookie = "sportello_session"

// SetSessionCookie writes the session cookie: HttpOnly, SameSite=Lax, and
// Secure whenever the desk is served over https. A negative ttl deletes it.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, secure bool, tok string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secure || r.TLS != nil, MaxAge: int(ttl.Seconds())})
}
