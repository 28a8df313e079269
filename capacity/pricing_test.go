package capacity

import (
	"math"
	"testing"
	"time"
)

func TestPricesCost(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    Usage
		want Cost
	}{
		{
			name: "a million of each for one hour",
			u:    Usage{ConsumedRCU: 1e6, ConsumedWCU: 1e6, ProvisionedRCU: 100, ProvisionedWCU: 10, Duration: time.Hour},
			want: Cost{
				OnDemandUSD:        0.125 + 0.625,
				ProvisionedUSD:     100*0.00013 + 10*0.00065,
				OnDemandUSDPerHour: 0.75,
			},
		},
		{
			// 10 minutes at 500 RRU/s: 300,000 RRU = $0.0375, $0.225 an hour.
			name: "ten-minute scraper",
			u:    Usage{ConsumedRCU: 300_000, ProvisionedRCU: 1000, ProvisionedWCU: 1000, Duration: 10 * time.Minute},
			want: Cost{
				OnDemandUSD:        0.0375,
				ProvisionedUSD:     (1000*0.00013 + 1000*0.00065) / 6,
				OnDemandUSDPerHour: 0.225,
			},
		},
		{
			name: "zero duration has no hourly rate",
			u:    Usage{ConsumedWCU: 2e6, ProvisionedWCU: 5},
			want: Cost{OnDemandUSD: 1.25},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PricesUSEast1.Cost(tc.u)
			for _, f := range []struct {
				field     string
				got, want float64
			}{
				{"OnDemandUSD", got.OnDemandUSD, tc.want.OnDemandUSD},
				{"ProvisionedUSD", got.ProvisionedUSD, tc.want.ProvisionedUSD},
				{"OnDemandUSDPerHour", got.OnDemandUSDPerHour, tc.want.OnDemandUSDPerHour},
			} {
				if math.Abs(f.got-f.want) > 1e-12 {
					t.Errorf("%s = %v, want %v", f.field, f.got, f.want)
				}
			}
		})
	}
}

func TestPricesUSEast1(t *testing.T) {
	p := PricesUSEast1
	if p.Region != "us-east-1" || p.Source == "" || p.AsOf == "" {
		t.Errorf("PricesUSEast1 = %+v, want region, source and date", p)
	}
	if p.OnDemandUSDPerMillionRRU != 0.125 || p.OnDemandUSDPerMillionWRU != 0.625 ||
		p.ProvisionedUSDPerRCUHour != 0.00013 || p.ProvisionedUSDPerWCUHour != 0.00065 {
		t.Errorf("PricesUSEast1 = %+v, want the contract's figures", p)
	}
}
