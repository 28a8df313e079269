package main

import (
	"encoding/json"
	"log"
	"os"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// coFigures reads the class histograms abusesim wrote and returns the
// corrected p99.9 and service p99.9 in ms, and how many service times
// exceeded 500 ms.
func coFigures(path string) (p999, svc999 float64, svcOver int64) {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var classes []struct{ Latency, Service []byte }
	if err := json.Unmarshal(data, &classes); err != nil {
		log.Fatal(err)
	}
	lat, err := hdrhistogram.Decode(classes[0].Latency)
	if err != nil {
		log.Fatal(err)
	}
	svc, err := hdrhistogram.Decode(classes[0].Service)
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range svc.Distribution() {
		if b.From >= 500_000 {
			svcOver += b.Count
		}
	}
	return float64(lat.ValueAtQuantile(99.9)) / 1000, float64(svc.ValueAtQuantile(99.9)) / 1000, svcOver
}
