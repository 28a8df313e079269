package target_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/abusesim/abusesim/target"
)

func ExampleParseTemplate() {
	tmpl, err := target.ParseTemplate(`{"event_id":"evt-{{seq}}","user_id":"{{key}}","via":"{{class}}"}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	body := tmpl.Append(nil, &target.TemplateContext{
		Rand:  rand.New(rand.NewPCG(1, 2)),
		Key:   "user-0042",
		Seq:   7,
		Class: "scraper",
	})
	fmt.Println(string(body))

	_, err = target.ParseTemplate("/items/{{id}}")
	fmt.Println(err)
	// Output:
	// {"event_id":"evt-7","user_id":"user-0042","via":"scraper"}
	// template "/items/{{id}}": column 8: unknown function "id" (want one of key, randid, seq, uuid, now, class, client, apikey)
}

func ExampleRun() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	res, err := target.Run(context.Background(), target.Config{
		BaseURL:  srv.URL,
		Duration: 500 * time.Millisecond,
		Classes: []target.Class{{
			Name:   "reader",
			Phases: []target.Phase{{Duration: 500 * time.Millisecond, StartRPS: 20, EndRPS: 20}},
			Mix:    []target.Request{{Weight: 1, Path: target.MustParseTemplate("/items/{{key}}")}},
			Keys:   target.NewUniform(target.KeySpace{Pattern: "item-%06d", Count: 100}),
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := res.Classes[0]
	fmt.Printf("%s: sent %d, ok %d, status %v\n", c.Name, c.Sent, c.OK, c.Status)
	// Output:
	// reader: sent 10, ok 10, status map[204:10]
}
