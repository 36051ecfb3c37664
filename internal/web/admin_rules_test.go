package web

import "testing"

// A time rule's wait reads as the editor writes it back, and what is not
// a wait is refused (the rule's check then names time.minutes).
func TestWaitRoundTrip(t *testing.T) {
	for in, want := range map[string]int{"3d": 3 * 1440, "1d 4h": 1440 + 240, "90": 90, "30m": 30, "4h": 240, "2d 4h 5m": 2*1440 + 245} {
		got, ok := parseWait(in)
		if !ok || got != want {
			t.Errorf("parseWait(%q) = %d, %v; want %d", in, got, ok, want)
			continue
		}
		if back, _ := parseWait(waitText(got)); back != got {
			t.Errorf("waitText(%d) = %q reads back as %d", got, waitText(got), back)
		}
	}
	for _, bad := range []string{"", "presto", "3 giorni", "-2d", "d", "1000d"} {
		if _, ok := parseWait(bad); ok {
			t.Errorf("parseWait(%q) accepted", bad)
		}
	}
}
