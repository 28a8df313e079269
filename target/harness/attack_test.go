package harness

import (
	"strings"
	"testing"
	"time"
)

// CheckAttack refuses what Attack would, from the options alone: nothing
// is dialed, so the non-loopback case is safe to test.
func TestCheckAttack(t *testing.T) {
	ok := AttackOptions{URL: "http://127.0.0.1:1/", Rate: 10, Duration: time.Second}
	if err := CheckAttack(ok); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	tests := []struct {
		name string
		edit func(*AttackOptions)
		want string
	}{
		{"ftp", func(o *AttackOptions) { o.URL = "ftp://127.0.0.1:1/" }, "http or https"},
		{"credentials", func(o *AttackOptions) { o.URL = "http://user@127.0.0.1:1/" }, "credentials"},
		{"non-loopback", func(o *AttackOptions) { o.URL = "http://192.0.2.1/" }, "refusing non-loopback"},
		{"no request", func(o *AttackOptions) { o.Rate = 10.0 / 3600 }, "holds no request"},
		{"bad template", func(o *AttackOptions) { o.URL = "http://127.0.0.1:1/{{nope}}" }, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			if err := CheckAttack(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
