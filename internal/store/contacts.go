package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sportello/sportello/internal/contact"
)

const contactCols = `id, name, language, organisation_id, notes, created_at, updated_at`

// CreateContact stores a contact with emails and phones and sets its ID. A
// contact without an organisation joins the one claiming its email domain.
func (s *Store) CreateContact(ctx context.Context, c *contact.Contact) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if c.OrganisationID == nil && len(c.Emails) > 0 {
			var oid int64
			err := tx.tx.QueryRowxContext(ctx, s.q(`SELECT organisation_id FROM organisation_domains WHERE domain = ?`), contact.EmailDomain(c.Emails[0])).Scan(&oid)
			if err == nil {
				c.OrganisationID = &oid
			} else if err != errNoRows {
				return err
			}
		} else if err := tx.checkOrg(ctx, c.OrganisationID); err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
		err := tx.tx.QueryRowxContext(ctx, s.q(`INSERT INTO contacts (name, language, organisation_id, notes, created_at, updated_at)
VALUES (?,?,?,?,?,?) RETURNING id`), c.Name, c.Language, c.OrganisationID, c.Notes, c.CreatedAt, c.UpdatedAt).Scan(&c.ID)
		if err != nil {
			return fmt.Errorf("creating contact: %w", err)
		}
		return tx.setContactDetails(ctx, c)
	})
}

func (tx *Tx) checkOrg(ctx context.Context, id *int64) error {
	if id == nil {
		return nil
	}
	ok, err := tx.exists(ctx, `SELECT 1 FROM organisations WHERE id = ?`, *id)
	if err != nil {
		return err
	}
	if !ok {
		return errField("organisation_id", "exists", "no organisation has this id")
	}
	return nil
}

func (tx *Tx) setContactDetails(ctx context.Context, c *contact.Contact) error {
	// A bounce's mark stays on an address the edit keeps.
	var marks []struct {
		Email  string `db:"email"`
		Status string `db:"undeliverable"`
	}
	if err := tx.sel(ctx, &marks, `SELECT email, undeliverable FROM contact_emails WHERE contact_id = ? AND undeliverable <> ''`, c.ID); err != nil {
		return err
	}
	kept := map[string]string{}
	for _, m := range marks {
		kept[m.Email] = m.Status
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM contact_emails WHERE contact_id = ?`), c.ID); err != nil {
		return err
	}
	for i, e := range c.Emails {
		_, err := tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO contact_emails (email, contact_id, position, undeliverable) VALUES (?,?,?,?)`), e, c.ID, i, kept[e])
		if isUnique(err) {
			return conflict("emails", fmt.Sprintf("%s belongs to another contact; merge the two contacts instead", e))
		}
		if err != nil {
			return fmt.Errorf("adding email: %w", err)
		}
	}
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM contact_phones WHERE contact_id = ?`), c.ID); err != nil {
		return err
	}
	for i, p := range c.Phones {
		if _, err := tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO contact_phones (contact_id, phone, position) VALUES (?,?,?) ON CONFLICT DO NOTHING`), c.ID, p, i); err != nil {
			return fmt.Errorf("adding phone: %w", err)
		}
	}
	return tx.indexContact(ctx, c.ID)
}

// UpdateContact writes a contact and replaces its emails and phones.
func (s *Store) UpdateContact(ctx context.Context, c *contact.Contact, since time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if err := tx.unchangedSince(ctx, "contacts", c.ID, since, contact.ErrNotFound); err != nil {
			return err
		}
		if err := tx.checkOrg(ctx, c.OrganisationID); err != nil {
			return err
		}
		res, err := tx.tx.ExecContext(ctx, s.q(`UPDATE contacts SET name=?, language=?, organisation_id=?, notes=?, updated_at=? WHERE id=?`),
			c.Name, c.Language, c.OrganisationID, c.Notes, utc(c.UpdatedAt), c.ID)
		if err != nil {
			return fmt.Errorf("updating contact: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return contact.ErrNotFound
		}
		if err := tx.setContactDetails(ctx, c); err != nil {
			return err
		}
		// Their tickets are found by their name: reindex them (the most
		// recent thousands; older ones catch up at the next full rebuild).
		var ids []int64
		if err := tx.sel(ctx, &ids, `SELECT id FROM tickets WHERE requester_id = ? ORDER BY id DESC LIMIT 2000`, c.ID); err != nil {
			return err
		}
		return tx.Reindex(ctx, ids...)
	})
}

// Contact reads one contact with emails and phones.
func (s *Store) Contact(ctx context.Context, id int64) (*contact.Contact, error) {
	var c contact.Contact
	if err := sqlx.GetContext(ctx, s.r, &c, s.q(`SELECT `+contactCols+` FROM contacts WHERE id = ?`), id); err != nil {
		return nil, notFound(err, contact.ErrNotFound)
	}
	cs := []*contact.Contact{&c}
	return &c, s.loadContactDetails(ctx, cs)
}

func (s *Store) loadContactDetails(ctx context.Context, cs []*contact.Contact) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]int64, len(cs))
	byID := map[int64]*contact.Contact{}
	for i, c := range cs {
		ids[i] = c.ID
		byID[c.ID] = c
		c.Emails, c.Phones = []string{}, []string{}
	}
	q, args, err := s.in(`SELECT contact_id, email, undeliverable FROM contact_emails WHERE contact_id IN (?) ORDER BY position, email`, ids)
	if err != nil {
		return err
	}
	var em []struct {
		ContactID     int64  `db:"contact_id"`
		Email         string `db:"email"`
		Undeliverable string `db:"undeliverable"`
	}
	if err := sqlx.SelectContext(ctx, s.r, &em, q, args...); err != nil {
		return fmt.Errorf("reading emails: %w", err)
	}
	for _, e := range em {
		c := byID[e.ContactID]
		c.Emails = append(c.Emails, e.Email)
		if e.Undeliverable != "" {
			if c.Undeliverable == nil {
				c.Undeliverable = map[string]string{}
			}
			c.Undeliverable[e.Email] = e.Undeliverable
		}
	}
	q, args, err = s.in(`SELECT contact_id, phone FROM contact_phones WHERE contact_id IN (?) ORDER BY position, phone`, ids)
	if err != nil {
		return err
	}
	var ph []struct {
		ContactID int64  `db:"contact_id"`
		Phone     string `db:"phone"`
	}
	if err := sqlx.SelectContext(ctx, s.r, &ph, q, args...); err != nil {
		return fmt.Errorf("reading phones: %w", err)
	}
	for _, p := range ph {
		byID[p.ContactID].Phones = append(byID[p.ContactID].Phones, p.Phone)
	}
	return nil
}

// Contacts lists contacts by name.
func (s *Store) Contacts(ctx context.Context, f contact.Filter) ([]contact.Contact, error) {
	if t := contact.AddressTerm(f.Query); t != "" {
		// An address or a domain: first as the one term it is; only when
		// nothing starts with it, word by word ("example.com" is the end
		// of "posta.example.com").
		cs, err := s.contacts(ctx, f, `id IN (SELECT contact_id FROM contact_terms WHERE term >= ? AND term < ?)`, []any{t, t + "\U0010FFFF"})
		if err != nil || len(cs) > 0 || f.Offset > 0 {
			return cs, err
		}
	}
	var cond string
	var args []any
	if f.Query != "" {
		// Any word of the name, any part of an email, a phone number's
		// digits: prefixes of the contact's search terms (contact_terms).
		if cond, args = s.contactMatch(f.Query); cond == "" {
			return nil, nil
		}
	}
	return s.contacts(ctx, f, cond, args)
}

// contacts lists the contacts matching cond (none: all) and f's other
// filters, by name.
func (s *Store) contacts(ctx context.Context, f contact.Filter, cond string, args []any) ([]contact.Contact, error) {
	var where []string
	if cond != "" {
		where = append(where, cond)
	}
	if f.OrganisationID != nil {
		where = append(where, "organisation_id = ?")
		args = append(args, *f.OrganisationID)
	}
	query := `SELECT ` + contactCols + ` FROM contacts`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY name, id LIMIT ? OFFSET ?"
	args = append(args, f.Limit, f.Offset)
	var out []contact.Contact
	if err := sqlx.SelectContext(ctx, s.r, &out, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("listing contacts: %w", err)
	}
	ptrs := make([]*contact.Contact, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, s.loadContactDetails(ctx, ptrs)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CreateOrganisation stores an organisation with its domains.
func (s *Store) CreateOrganisation(ctx context.Context, o *contact.Organisation) error {
	return s.InTx(ctx, func(tx *Tx) error {
		o.CreatedAt, o.UpdatedAt = utc(o.CreatedAt), utc(o.UpdatedAt)
		err := tx.tx.QueryRowxContext(ctx, s.q(`INSERT INTO organisations (name, notes, created_at, updated_at) VALUES (?,?,?,?) RETURNING id`),
			o.Name, o.Notes, o.CreatedAt, o.UpdatedAt).Scan(&o.ID)
		if isUnique(err) {
			return conflict("name", "another organisation has this name")
		}
		if err != nil {
			return fmt.Errorf("creating organisation: %w", err)
		}
		return tx.setDomains(ctx, o)
	})
}

func (tx *Tx) setDomains(ctx context.Context, o *contact.Organisation) error {
	if _, err := tx.tx.ExecContext(ctx, tx.s.q(`DELETE FROM organisation_domains WHERE organisation_id = ?`), o.ID); err != nil {
		return err
	}
	for _, d := range o.Domains {
		_, err := tx.tx.ExecContext(ctx, tx.s.q(`INSERT INTO organisation_domains (domain, organisation_id) VALUES (?, ?)`), d, o.ID)
		if isUnique(err) {
			return conflict("domains", d+" already belongs to another organisation")
		}
		if err != nil {
			return fmt.Errorf("adding domain: %w", err)
		}
	}
	return nil
}

// UpdateOrganisation writes an organisation and replaces its domains.
func (s *Store) UpdateOrganisation(ctx context.Context, o *contact.Organisation, since time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if err := tx.unchangedSince(ctx, "organisations", o.ID, since, contact.ErrOrganisationNotFound); err != nil {
			return err
		}
		res, err := tx.tx.ExecContext(ctx, s.q(`UPDATE organisations SET name=?, notes=?, updated_at=? WHERE id=?`), o.Name, o.Notes, utc(o.UpdatedAt), o.ID)
		if isUnique(err) {
			return conflict("name", "another organisation has this name")
		}
		if err != nil {
			return fmt.Errorf("updating organisation: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return contact.ErrOrganisationNotFound
		}
		return tx.setDomains(ctx, o)
	})
}

// DeleteOrganisation removes an organisation; its contacts stay, unlinked.
func (s *Store) DeleteOrganisation(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM organisations WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting organisation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return contact.ErrOrganisationNotFound
	}
	return nil
}

// Organisation reads one organisation with its domains.
func (s *Store) Organisation(ctx context.Context, id int64) (*contact.Organisation, error) {
	os, err := s.organisations(ctx, "WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, contact.ErrOrganisationNotFound
	}
	return &os[0], nil
}

// Organisations lists organisations by name.
func (s *Store) Organisations(ctx context.Context, limit, offset int) ([]contact.Organisation, error) {
	return s.organisations(ctx, "ORDER BY name, id LIMIT ? OFFSET ?", limit, offset)
}

func (s *Store) organisations(ctx context.Context, rest string, args ...any) ([]contact.Organisation, error) {
	var out []contact.Organisation
	if err := sqlx.SelectContext(ctx, s.r, &out, s.q(`SELECT id, name, notes, created_at, updated_at FROM organisations `+rest), args...); err != nil {
		return nil, fmt.Errorf("listing organisations: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]int64, len(out))
	idx := map[int64]int{}
	for i := range out {
		ids[i] = out[i].ID
		idx[out[i].ID] = i
		out[i].Domains = []string{}
	}
	q, a, err := s.in(`SELECT organisation_id, domain FROM organisation_domains WHERE organisation_id IN (?) ORDER BY domain`, ids)
	if err != nil {
		return nil, err
	}
	var ds []struct {
		OrgID  int64  `db:"organisation_id"`
		Domain string `db:"domain"`
	}
	if err := sqlx.SelectContext(ctx, s.r, &ds, q, a...); err != nil {
		return nil, fmt.Errorf("reading domains: %w", err)
	}
	for _, d := range ds {
		out[idx[d.OrgID]].Domains = append(out[idx[d.OrgID]].Domains, d.Domain)
	}
	return out, nil
}

// FindOrganisations lists organisations whose name contains query
// (case-insensitive; all when empty), by name.
func (s *Store) FindOrganisations(ctx context.Context, query string, limit, offset int) ([]contact.Organisation, error) {
	if query == "" {
		return s.Organisations(ctx, limit, offset)
	}
	return s.organisations(ctx, `WHERE LOWER(name) LIKE ? ESCAPE '\' ORDER BY name, id LIMIT ? OFFSET ?`,
		"%"+escapeLike(strings.ToLower(query))+"%", limit, offset)
}
