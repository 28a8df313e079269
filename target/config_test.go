package target

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// validConfig returns a config that passes validation; cases break one
// thing each.
func validConfig() Config {
	return Config{
		BaseURL:  "http://127.0.0.1:8080",
		Duration: time.Second,
		Classes: []Class{{
			Name:   "attacker",
			Phases: []Phase{{Duration: time.Second, StartRPS: 1, EndRPS: 1}},
			Mix:    []Request{{Weight: 1, Path: MustParseTemplate("/items/{{key}}")}},
			Keys:   NewMissing("x-"),
		}},
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"localhost", func(c *Config) { c.BaseURL = "http://localhost:1/api/" }, ""},
		{"IPv6 loopback", func(c *Config) { c.BaseURL = "https://[::1]:443" }, ""},
		{"other loopback", func(c *Config) { c.BaseURL = "http://127.9.8.7" }, ""},
		{"allowed host", func(c *Config) {
			c.BaseURL = "https://api.example.com"
			c.AllowHosts = []string{"API.example.com"}
		}, ""},
		{"non-loopback host", func(c *Config) { c.BaseURL = "http://example.com:80" },
			"target: refusing non-loopback host example.com: name it in AllowHosts to allow it"},
		{"name resolving to loopback", func(c *Config) { c.BaseURL = "http://localtest.me" },
			"refusing non-loopback host localtest.me"},
		{"private address", func(c *Config) { c.BaseURL = "http://10.0.0.1" }, "refusing non-loopback host 10.0.0.1"},
		{"metadata address", func(c *Config) { c.BaseURL = "http://169.254.169.254" }, "refusing non-loopback host"},
		{"other host allowed", func(c *Config) {
			c.BaseURL = "http://example.org"
			c.AllowHosts = []string{"example.com"}
		}, "refusing non-loopback host example.org"},
		{"scheme", func(c *Config) { c.BaseURL = "ftp://127.0.0.1" }, "scheme must be http or https"},
		{"no host", func(c *Config) { c.BaseURL = "http:///items" }, "no host"},
		{"relative", func(c *Config) { c.BaseURL = "/items" }, "scheme must be http or https"},
		{"query", func(c *Config) { c.BaseURL = "http://127.0.0.1/?a=b" }, "query or fragment"},
		{"duration", func(c *Config) { c.Duration = 0 }, "target: duration 0s must be positive"},
		{"no classes", func(c *Config) { c.Classes = nil }, "target: no traffic classes"},
		{"duplicate class", func(c *Config) { c.Classes = append(c.Classes, c.Classes[0]) },
			"target: class attacker: name used twice"},
		{"no phases", func(c *Config) { c.Classes[0].Phases = nil }, "target: class attacker: no phases"},
		{"phase duration", func(c *Config) {
			c.Classes[0].Phases = append(c.Classes[0].Phases, Phase{StartRPS: 1})
		}, "target: class attacker: phase 2: duration must be positive"},
		{"negative rate", func(c *Config) { c.Classes[0].Phases[0].EndRPS = -1 },
			"target: class attacker: phase 1: rate -1 must be a finite number >= 0"},
		{"NaN rate", func(c *Config) { c.Classes[0].Phases[0].StartRPS = math.NaN() }, "rate NaN"},
		{"infinite rate", func(c *Config) { c.Classes[0].Phases[0].StartRPS = math.Inf(1) }, "rate +Inf"},
		{"no mix", func(c *Config) { c.Classes[0].Mix = nil }, "no requests in the mix"},
		{"h2 over http", func(c *Config) { c.Classes[0].Protocol = ProtocolH2 },
			"target: class attacker: protocol h2 is HTTP/2 over TLS and needs an https:// target, got http://"},
		{"h2c over https", func(c *Config) {
			c.BaseURL = "https://127.0.0.1"
			c.Classes[0].Protocol = ProtocolH2C
		}, "protocol h2c is HTTP/2 without TLS and needs an http:// target, got https://"},
		{"h2 over https", func(c *Config) {
			c.BaseURL = "https://127.0.0.1"
			c.Classes[0].Protocol = ProtocolH2
		}, ""},
		{"h2c over http", func(c *Config) { c.Classes[0].Protocol = ProtocolH2C }, ""},
		{"weight", func(c *Config) { c.Classes[0].Mix[0].Weight = 0 },
			"target: class attacker: request 1: weight 0 must be positive"},
		{"nil path", func(c *Config) { c.Classes[0].Mix[0].Path = nil }, "request 1: no path template"},
		{"relative path", func(c *Config) {
			c.Classes[0].Mix[0] = Request{Name: "get", Weight: 1, Path: MustParseTemplate("@evil.example/{{key}}")}
		}, "request get: path \"@evil.example/{{key}}\" must start with /"},
		{"method", func(c *Config) { c.Classes[0].Mix[0].Method = "GE T" }, "not an HTTP method token"},
		{"key without dist", func(c *Config) { c.Classes[0].Keys = nil }, "uses {{key}} but the class has no key"},
		{"workers", func(c *Config) { c.Classes[0].Workers = -1 }, "workers -1 must not be negative"},
		{"timeout", func(c *Config) { c.Classes[0].Timeout = -time.Second }, "timeout -1s must not be negative"},
		{"unnamed class", func(c *Config) { c.Classes[0].Name = ""; c.Classes[0].Workers = -2 },
			"target: class 1: workers -2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			_, err := cfg.validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRunRefusesInvalidConfig(t *testing.T) {
	cfg := validConfig()
	cfg.BaseURL = "http://example.com"
	res, err := Run(context.Background(), cfg)
	if err == nil || res != nil {
		t.Fatalf("Run = %v, %v; want a refusal", res, err)
	}
}
