package main
import (
 _ "github.com/spf13/cobra"
 _ "github.com/aws/aws-sdk-go-v2/service/dynamodb"
 _ "github.com/aws/aws-sdk-go-v2/credentials"
 _ "github.com/HdrHistogram/hdrhistogram-go"
 _ "gonum.org/v1/plot"
 _ "github.com/truora/minidyn/server"
 _ "github.com/goccy/go-yaml"
 _ "golang.org/x/time/rate"
)
func main(){}
