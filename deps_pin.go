//go:build abusesim_deps

// This file only pins modules that work in progress is about to use, so
// that parallel changes do not race on go.mod. It is never built.
package abusesim

import (
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	_ "github.com/fxamacker/cbor/v2"
	_ "github.com/go-redis/redis_rate/v10"
	_ "github.com/redis/go-redis/v9"
	_ "golang.org/x/term"
)
