package httpx

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/fault"
)

// MaxRepeats bounds how often one query or form parameter may repeat: a
// URL with status=open ten thousand times is refused, not run.
const MaxRepeats = 100

// CheckText refuses text that databases cannot store faithfully: invalid
// UTF-8 (PostgreSQL refuses it, SQLite would store the bytes) and NUL
// characters (PostgreSQL text cannot hold them).
func CheckText(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		return fault.Field(field, "utf8", "must be UTF-8 text without NUL characters")
	}
	return nil
}

// CheckValues checks every key and value of a query or form: text rules,
// and at most MaxRepeats values per key.
func CheckValues(v url.Values) error {
	for k, vs := range v {
		if err := CheckText(k, k); err != nil {
			return fault.Field("query", "utf8", "parameter names must be UTF-8 text without NUL characters")
		}
		if len(vs) > MaxRepeats {
			return fault.Field(k, "max_items", fmt.Sprintf("at most %d values", MaxRepeats))
		}
		for _, s := range vs {
			if err := CheckText(k, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckQuery applies CheckValues to a request's query string; both
// surfaces run it before any handler.
func CheckQuery(r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fault.Field("query", "syntax", "the query string is malformed")
	}
	return CheckValues(v)
}

// checkDecoded walks a decoded JSON value and refuses NUL characters in
// any string (encoding/json decodes "\u0000" into one), naming the field
// by its JSON path.
func checkDecoded(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkDecoded(v.Elem(), path)
		}
	case reflect.String:
		return CheckText(path, v.String())
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if f.Anonymous && f.Tag.Get("json") == "" {
				name = ""
			}
			if err := checkDecoded(v.Field(i), join(path, name)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // []byte
		}
		for i := range v.Len() {
			if err := checkDecoded(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := fmt.Sprint(it.Key().Interface())
			if err := CheckText(join(path, k), k); err != nil {
				return err
			}
			if err := checkDecoded(it.Value(), join(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, name string) string {
	switch {
	case path == "":
		return name
	case name == "":
		return path
	}
	return path + "." + name
}

// Clip cuts s to at most n bytes on a character boundary (for text a
// stranger sent that is echoed in an error).
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
