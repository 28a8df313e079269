// Command abusesim replays abuse scenarios against DynamoDB-backed APIs and
// reports what the abuse cost and what it did to legitimate users.
package main

import "os"

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}
