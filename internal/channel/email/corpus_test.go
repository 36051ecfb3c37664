package email

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir finds ../shared/mail-corpus beside the repository (the
// developers' corpus of real mails, kept outside the project), or skips.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Skip("no go.mod above the test: cannot find ../shared/mail-corpus")
		}
		dir = up
	}
	c := filepath.Join(filepath.Dir(dir), "shared", "mail-corpus")
	if _, err := os.Stat(filepath.Join(c, "MANIFEST.tsv")); err != nil {
		t.Skipf("the mail corpus is not at %s (it sits beside the repository on developer machines and CI)", c)
	}
	return c
}

type corpusRow struct {
	file, class, expectedText, threading string
}

func readManifest(t testing.TB, dir string) []corpusRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusRow
	for _, rec := range recs[1:] {
		if len(rec) < 10 {
			continue
		}
		out = append(out, corpusRow{file: rec[0], class: rec[4], expectedText: rec[5], threading: rec[9]})
	}
	return out
}

// The developers' corpus (MANIFEST.tsv): every mail parses, classifies as
// its source expects, keeps a stable id when it has none, and the reply
// texts come out as the source's own tests assert.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	rows := readManifest(t, dir)
	if len(rows) < 40 {
		t.Fatalf("the manifest lists %d mails, want the 43 of the corpus", len(rows))
	}
	ids := map[string]*Message{}
	for _, row := range rows {
		t.Run(row.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, row.file))
			if err != nil {
				t.Fatal(err)
			}
			var text string
			if strings.HasSuffix(row.file, ".eml") {
				m, err := Parse(raw)
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				ids[row.file] = m
				if got := Classify(m, nil); string(got) != row.class {
					t.Errorf("class %s, want %s (subject %q)", got, row.class, m.Subject)
				}
				if strings.Contains(row.threading, "no Message-ID") {
					again, _ := Parse(raw)
					if !m.Synthetic || again.MessageID != m.MessageID {
						t.Errorf("no Message-ID: synthetic %v, stable %v", m.Synthetic, again.MessageID == m.MessageID)
					}
				}
				text = m.Text
			} else {
				text = string(raw)
			}
			if row.expectedText == "" {
				return
			}
			want, err := os.ReadFile(filepath.Join(dir, row.expectedText))
			if err != nil {
				t.Fatal(err)
			}
			if got := VisibleText(text); strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
				t.Errorf("visible text:\n%s\n--- want ---\n%s", got, want)
			}
		})
	}
	// The threading case: a reply with In-Reply-To but no References names
	// the first mail; the unrelated one names nothing of it.
	first, reply, other := ids["webklex__thread_my_topic.eml"], ids["webklex__thread_re_my_topic.eml"], ids["webklex__thread_unrelated.eml"]
	if first == nil || reply == nil || other == nil {
		t.Fatal("the webklex thread mails are missing")
	}
	if len(reply.InReplyTo) == 0 || reply.InReplyTo[0] != first.MessageID || len(reply.References) != 0 {
		t.Errorf("reply: In-Reply-To %v References %v, want [%s] and none", reply.InReplyTo, reply.References, first.MessageID)
	}
	for _, id := range append(other.InReplyTo, other.References...) {
		if id == first.MessageID {
			t.Error("the unrelated mail refers to the thread")
		}
	}
}
