package web

import (
	"net/http"
	"net/url"
	"slices"
)

// confirmData is the page a destructive or wide action shows before it
// acts: what will happen, in words, and the same form again with
// confirm=1 (or a way back). It works without JavaScript, and a reload
// of it posts nothing.
type confirmData struct {
	Title, Message string
	Lines          []string // details (both tickets of a merge, who is affected)
	Warning        string   // said in red (requesters differ)
	Button, Back   string   // the action's label; where "keep it" leads
	Action         string   // the form's address
	Fields         url.Values
}

// confirmed reports whether the post carries the confirmation.
func confirmed(r *http.Request) bool { return r.PostFormValue("confirm") == "1" }

// askFirst shows the confirmation page for the posted form.
func (h *handler) askFirst(w http.ResponseWriter, r *http.Request, d confirmData) error {
	a := current(r)
	pr := h.printer(r, a)
	d.Action = r.URL.Path
	d.Fields = url.Values{}
	for k, v := range r.PostForm {
		if k != "confirm" {
			d.Fields[k] = slices.Clone(v)
		}
	}
	if d.Back == "" {
		d.Back = "/"
	}
	if d.Button == "" {
		d.Button = pr.T("confirm.yes")
	}
	return h.render(w, r, http.StatusOK, "confirm", page{P: pr, Agent: a, Title: d.Title, Now: h.Now(), Data: d})
}
