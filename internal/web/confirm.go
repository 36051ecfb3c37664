package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/sportello/sportello/internal/fault"
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

// pathID reads the {id} of a path; one that is not a number is notFound.
func pathID(r *http.Request, notFound error) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, notFound
	}
	return id, nil
}

// deletion is a delete that asks first: Read names what goes (and fails
// when it is gone or not the agent's to see) with the confirmation's
// message; Delete removes it, checking who may; List is where both pages
// lead back. The
// confirmation's title and button are confirm.<Kind>.title and .yes.
type deletion struct {
	Kind, List string
	NotFound   error
	Read       func(ctx context.Context, id int64) (name, message string, err error)
	Delete     func(ctx context.Context, id int64) error
}

// deleteAsked runs a deletion: the confirmation page first, the delete on
// its confirmed post (a second one, for what is already gone, lands on
// the list).
func (h *handler) deleteAsked(w http.ResponseWriter, r *http.Request, d deletion) error {
	id, err := pathID(r, d.NotFound)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	if !confirmed(r) {
		name, msg, err := d.Read(r.Context(), id)
		if err != nil {
			return err
		}
		pr := h.printer(r, current(r))
		return h.askFirst(w, r, confirmData{Title: pr.T("confirm."+d.Kind+".title", "Name", name), Message: msg,
			Button: pr.T("confirm." + d.Kind + ".yes"), Back: d.List})
	}
	if err := d.Delete(r.Context(), id); err != nil && !errors.Is(err, fault.NotFound) {
		return err
	}
	http.Redirect(w, r, d.List, http.StatusSeeOther)
	return nil
}
