package sqlite3

import "testing"

func TestWithDefaults(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"file:a.db", "file:a.db?_time_format=sqlite&_busy_timeout=5000&_pragma=cache_size(-512)"},
		{"a.db?_txlock=immediate", "a.db?_txlock=immediate&_time_format=sqlite&_busy_timeout=5000&_pragma=cache_size(-512)"},
		{"file:a.db?_time_format=datetime&_timeout=10&_pragma=cache_size(-4000)", "file:a.db?_time_format=datetime&_timeout=10&_pragma=cache_size(-4000)"},
		{"file:a.db?_time_integer_format=unix&_pragma=%20CACHE_SIZE=100", "file:a.db?_time_integer_format=unix&_pragma=%20CACHE_SIZE=100&_busy_timeout=5000"},
		{"file:a.db?_pragma=foreign_keys(1)&_busy_timeout=1", "file:a.db?_pragma=foreign_keys(1)&_busy_timeout=1&_time_format=sqlite&_pragma=cache_size(-512)"},
	} {
		if got := withDefaults(tt.in); got != tt.want {
			t.Errorf("withDefaults(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
