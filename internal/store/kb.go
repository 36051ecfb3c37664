package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/kb"
	"github.com/sportello/sportello/internal/search"
)

// The help centre's knowledge base: categories with a name per language,
// articles with a version per language, and their search documents
// (kb_fts on SQLite, kb_search on PostgreSQL), stemmed in Go like tickets.

const kbArticleCols = `id, category_id, internal, position, helpful, unhelpful, views, deflected, created_at, updated_at`
const kbTextCols = `id, article_id, lang, title, slug, body, html, summary, state, published_at, updated_at`

// Categories lists the categories with their names, in order.
func (s *Store) Categories(ctx context.Context) ([]kb.Category, error) {
	var cs []kb.Category
	if err := s.sel(ctx, &cs, `SELECT id, position, created_at, updated_at FROM kb_categories ORDER BY position, id`); err != nil {
		return nil, fmt.Errorf("listing categories: %w", err)
	}
	var names []struct {
		CategoryID int64 `db:"category_id"`
		Lang       string
		kb.CategoryName
	}
	if err := s.sel(ctx, &names, `SELECT category_id, lang, name, slug, description FROM kb_category_names`); err != nil {
		return nil, fmt.Errorf("listing category names: %w", err)
	}
	at := map[int64]int{}
	for i := range cs {
		cs[i].Names = map[string]kb.CategoryName{}
		at[cs[i].ID] = i
	}
	for _, n := range names {
		if i, ok := at[n.CategoryID]; ok {
			cs[i].Names[n.Lang] = n.CategoryName
		}
	}
	return cs, nil
}

// SaveCategory creates c (ID 0) or replaces its position and names.
func (s *Store) SaveCategory(ctx context.Context, c *kb.Category) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		c.UpdatedAt = utc(c.UpdatedAt)
		if c.ID == 0 {
			c.CreatedAt = c.UpdatedAt
			if err := tx.queryRow(ctx, `INSERT INTO kb_categories (position, created_at, updated_at) VALUES (?,?,?) RETURNING id`,
				c.Position, c.CreatedAt, c.UpdatedAt).Scan(&c.ID); err != nil {
				return fmt.Errorf("creating category: %w", err)
			}
		} else {
			res, err := tx.exec(ctx, `UPDATE kb_categories SET position = ?, updated_at = ? WHERE id = ?`, c.Position, c.UpdatedAt, c.ID)
			if err != nil {
				return fmt.Errorf("updating category: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return kb.ErrNotFound
			}
			if _, err := tx.exec(ctx, `DELETE FROM kb_category_names WHERE category_id = ?`, c.ID); err != nil {
				return err
			}
		}
		for lang, n := range c.Names {
			_, err := tx.exec(ctx, `INSERT INTO kb_category_names (category_id, lang, name, slug, description) VALUES (?,?,?,?,?)`,
				c.ID, lang, n.Name, n.Slug, n.Description)
			if isUnique(err) {
				return conflict("names."+lang+".slug", "another category has this address in "+lang)
			}
			if err != nil {
				return fmt.Errorf("naming category: %w", err)
			}
		}
		return nil
	})
}

// DeleteCategory removes a category; its articles stay, uncategorised.
func (s *Store) DeleteCategory(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM kb_categories WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting category: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kb.ErrNotFound
	}
	return nil
}

// Articles lists articles with their versions, by position then newest.
func (s *Store) Articles(ctx context.Context, f kb.Filter) ([]kb.Article, error) {
	var where []string
	var args []any
	if f.CategoryID != nil {
		where, args = append(where, "category_id = ?"), append(args, *f.CategoryID)
	}
	if f.Public {
		where = append(where, "internal = FALSE")
	}
	if f.Lang != "" {
		cond := `id IN (SELECT article_id FROM kb_texts WHERE lang = ?`
		if f.Public {
			cond += ` AND state = 'published'`
		}
		where, args = append(where, cond+")"), append(args, f.Lang)
	}
	q := `SELECT ` + kbArticleCols + ` FROM kb_articles`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY position, id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var as []kb.Article
	if err := s.sel(ctx, &as, q, args...); err != nil {
		return nil, fmt.Errorf("listing articles: %w", err)
	}
	return as, s.loadTexts(ctx, as)
}

func (s *Store) loadTexts(ctx context.Context, as []kb.Article) error {
	if len(as) == 0 {
		return nil
	}
	ids := make([]int64, len(as))
	at := map[int64]int{}
	for i, a := range as {
		ids[i], at[a.ID] = a.ID, i
	}
	q, args, err := s.in(`SELECT `+kbTextCols+` FROM kb_texts WHERE article_id IN (?) ORDER BY lang`, ids)
	if err != nil {
		return err
	}
	var ts []kb.Text
	if err := s.r.SelectContext(ctx, &ts, q, args...); err != nil {
		return fmt.Errorf("reading article texts: %w", err)
	}
	for _, t := range ts {
		a := &as[at[t.ArticleID]]
		a.Texts = append(a.Texts, t)
	}
	return nil
}

// Article reads one article with its versions.
func (s *Store) Article(ctx context.Context, id int64) (*kb.Article, error) {
	var a kb.Article
	if err := s.get(ctx, &a, `SELECT `+kbArticleCols+` FROM kb_articles WHERE id = ?`, id); err != nil {
		return nil, notFound(err, kb.ErrNotFound)
	}
	as := []kb.Article{a}
	if err := s.loadTexts(ctx, as); err != nil {
		return nil, err
	}
	return &as[0], nil
}

// ArticleBySlug reads the article whose version in lang has slug.
func (s *Store) ArticleBySlug(ctx context.Context, lang, slug string) (*kb.Article, error) {
	var id int64
	if err := s.get(ctx, &id, `SELECT article_id FROM kb_texts WHERE lang = ? AND slug = ?`, lang, slug); err != nil {
		return nil, notFound(err, kb.ErrNotFound)
	}
	return s.Article(ctx, id)
}

// SaveArticle creates a (ID 0) or updates its category, internal flag and
// position, and writes its version t (validated by the caller) with its
// search document, in one transaction.
func (s *Store) SaveArticle(ctx context.Context, a *kb.Article, t *kb.Text, now time.Time) error {
	now = utc(now)
	return s.InTx(ctx, func(tx *Tx) error {
		a.UpdatedAt = now
		if a.ID == 0 {
			a.CreatedAt = now
			if err := tx.queryRow(ctx, `INSERT INTO kb_articles (category_id, internal, position, created_at, updated_at) VALUES (?,?,?,?,?) RETURNING id`,
				a.CategoryID, a.Internal, a.Position, now, now).Scan(&a.ID); err != nil {
				return fmt.Errorf("creating article: %w", err)
			}
		} else {
			res, err := tx.exec(ctx, `UPDATE kb_articles SET category_id = ?, internal = ?, position = ?, updated_at = ? WHERE id = ?`,
				a.CategoryID, a.Internal, a.Position, now, a.ID)
			if err != nil {
				return fmt.Errorf("updating article: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return kb.ErrNotFound
			}
		}
		if t == nil {
			return nil
		}
		t.ArticleID, t.UpdatedAt = a.ID, now
		var was []struct {
			ID          int64      `db:"id"`
			State       kb.State   `db:"state"`
			PublishedAt *time.Time `db:"published_at"`
			UpdatedAt   time.Time  `db:"updated_at"`
		}
		if err := tx.sel(ctx, &was, `SELECT id, state, published_at, updated_at FROM kb_texts WHERE article_id = ? AND lang = ?`+tx.s.forUpdate(), a.ID, t.Lang); err != nil {
			return err
		}
		if t.Base != nil {
			var base time.Time
			if len(was) > 0 {
				base = was[0].UpdatedAt
			}
			if !utc(base).Equal(utc(*t.Base)) {
				return kb.ErrEdited
			}
		}
		switch {
		case t.State == kb.Published && (len(was) == 0 || was[0].PublishedAt == nil):
			t.PublishedAt = &now
		case len(was) > 0:
			t.PublishedAt = was[0].PublishedAt
		}
		var err error
		if len(was) == 0 {
			err = tx.queryRow(ctx, `INSERT INTO kb_texts (article_id, lang, title, slug, body, html, summary, state, published_at, updated_at)
VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id`, a.ID, t.Lang, t.Title, t.Slug, t.Body, t.HTML, t.Summary, t.State, t.PublishedAt, now).Scan(&t.ID)
		} else {
			t.ID = was[0].ID
			_, err = tx.exec(ctx, `UPDATE kb_texts SET title = ?, slug = ?, body = ?, html = ?, summary = ?, state = ?, published_at = ?, updated_at = ? WHERE id = ?`,
				t.Title, t.Slug, t.Body, t.HTML, t.Summary, t.State, t.PublishedAt, now, t.ID)
		}
		if isUnique(err) {
			return conflict("slug", "another article has this address in "+t.Lang)
		}
		if err != nil {
			return fmt.Errorf("writing article text: %w", err)
		}
		return tx.indexKBText(ctx, t)
	})
}

func (tx *Tx) indexKBText(ctx context.Context, t *kb.Text) error {
	title, body := search.IndexText(t.Title), search.IndexText(t.Body)
	if tx.s.dialect == SQLite {
		if _, err := tx.exec(ctx, `DELETE FROM kb_fts WHERE rowid = ?`, t.ID); err != nil {
			return fmt.Errorf("clearing article search: %w", err)
		}
		_, err := tx.exec(ctx, `INSERT INTO kb_fts (rowid, title, body) VALUES (?,?,?)`, t.ID, title, body)
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO kb_search (text_id, doc) VALUES (?, setweight(to_tsvector('simple', ?), 'A') || to_tsvector('simple', ?))
ON CONFLICT (text_id) DO UPDATE SET doc = EXCLUDED.doc`, t.ID, title, body)
	return err
}

// DeleteArticle removes an article, its versions and their search rows.
func (s *Store) DeleteArticle(ctx context.Context, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if s.dialect == SQLite {
			if _, err := tx.exec(ctx, `DELETE FROM kb_fts WHERE rowid IN (SELECT id FROM kb_texts WHERE article_id = ?)`, id); err != nil {
				return err
			}
		}
		res, err := tx.exec(ctx, `DELETE FROM kb_articles WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("deleting article: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kb.ErrNotFound
		}
		return nil
	})
}

// SearchArticles finds versions in lang matching query (every word, with
// the stemming of ticket search), titles first; public keeps published,
// non-internal ones only.
func (s *Store) SearchArticles(ctx context.Context, lang, query string, public bool, limit int) ([]kb.Hit, error) {
	return s.searchArticles(ctx, lang, search.Parse(query), public, limit)
}

// SuggestArticles finds the published public versions in lang that share
// any word with text (what a customer is writing), best first.
func (s *Store) SuggestArticles(ctx context.Context, lang, text string, limit int) ([]kb.Hit, error) {
	return s.searchArticles(ctx, lang, search.ParseAny(text), true, limit)
}

func (s *Store) searchArticles(ctx context.Context, lang string, q search.Query, public bool, limit int) ([]kb.Hit, error) {
	if q.Empty() {
		return nil, nil
	}
	cond := ""
	if public {
		cond = ` AND t.state = 'published' AND a.internal = FALSE`
	}
	var sqlq string
	var arg string
	if s.dialect == SQLite {
		sqlq = `SELECT t.article_id, t.lang, t.title, t.slug, t.summary, a.internal, t.state FROM kb_fts
JOIN kb_texts t ON t.id = kb_fts.rowid JOIN kb_articles a ON a.id = t.article_id
WHERE kb_fts MATCH ? AND t.lang = ?` + cond + ` ORDER BY bm25(kb_fts, 5.0, 1.0), t.id LIMIT ?`
		arg = q.FTS5()
	} else {
		sqlq = `SELECT t.article_id, t.lang, t.title, t.slug, t.summary, a.internal, t.state FROM kb_search ks
JOIN kb_texts t ON t.id = ks.text_id JOIN kb_articles a ON a.id = t.article_id
WHERE ks.doc @@ to_tsquery('simple', ?) AND t.lang = ?` + cond + ` ORDER BY ts_rank(ks.doc, to_tsquery('simple', ?)) DESC, t.id LIMIT ?`
		arg = q.TSQuery()
	}
	args := []any{arg, lang}
	if s.dialect == Postgres {
		args = append(args, arg)
	}
	args = append(args, limit)
	var out []kb.Hit
	if err := sqlxSelect(ctx, s, &out, sqlq, args...); err != nil {
		return nil, fmt.Errorf("searching articles: %w", err)
	}
	return out, nil
}

func sqlxSelect(ctx context.Context, s *Store, dest any, q string, args ...any) error {
	return s.r.SelectContext(ctx, dest, s.q(q), args...)
}

// CountArticle adds one to an article's counter: "helpful", "unhelpful",
// "views" or "deflected".
func (s *Store) CountArticle(ctx context.Context, id int64, what string) error {
	switch what {
	case "helpful", "unhelpful", "views", "deflected":
	default:
		return fmt.Errorf("no article counter %q", what)
	}
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE kb_articles SET `+what+` = `+what+` + 1 WHERE id = ?`), id)
	return err
}
