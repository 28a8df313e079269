package capacity

import "time"

// Prices are DynamoDB throughput prices for one region, Standard table
// class, in US dollars.
type Prices struct {
	Region                   string
	OnDemandUSDPerMillionRRU float64 // per million read request units
	OnDemandUSDPerMillionWRU float64 // per million write request units
	ProvisionedUSDPerRCUHour float64 // per provisioned read capacity unit-hour
	ProvisionedUSDPerWCUHour float64 // per provisioned write capacity unit-hour
	Source                   string  // where the figures come from
	AsOf                     string  // when they were read there (YYYY-MM-DD)
}

// PricesUSEast1 are the us-east-1 prices: on demand $0.125 per million RRU
// and $0.625 per million WRU (the prices since AWS halved on-demand
// throughput prices on 2024-11-01), provisioned $0.00013 per RCU-hour and
// $0.00065 per WCU-hour.
//
// TODO: the figures were not re-read from the live pricing pages when this
// table was written (no network access to aws.amazon.com); check them there
// and update AsOf before quoting costs.
var PricesUSEast1 = Prices{
	Region:                   "us-east-1",
	OnDemandUSDPerMillionRRU: 0.125,
	OnDemandUSDPerMillionWRU: 0.625,
	ProvisionedUSDPerRCUHour: 0.00013,
	ProvisionedUSDPerWCUHour: 0.00065,
	Source: "https://aws.amazon.com/dynamodb/pricing/on-demand/ and " +
		"https://aws.amazon.com/dynamodb/pricing/provisioned/",
	AsOf: "2024-11-01",
}

// Usage is what a run used on one table: consumed capacity units, the
// table's provisioned throughput and how long the run lasted.
type Usage struct {
	ConsumedRCU, ConsumedWCU       float64 // summed over the run; equal to RRU/WRU on demand
	ProvisionedRCU, ProvisionedWCU int64
	Duration                       time.Duration
}

// Cost is a run's throughput cost under both capacity modes.
type Cost struct {
	// OnDemandUSD is what the consumed units cost as on-demand requests.
	OnDemandUSD float64 `json:"on_demand_usd"`
	// ProvisionedUSD is what the provisioned throughput cost for the run's
	// duration, used or not.
	ProvisionedUSD float64 `json:"provisioned_usd"`
	// OnDemandUSDPerHour is OnDemandUSD scaled to one hour at the run's
	// average rate; 0 when the duration is 0.
	OnDemandUSDPerHour float64 `json:"on_demand_usd_per_hour"`
}

// Cost prices u. Storage, free tier, backups and other features are not
// included.
func (p Prices) Cost(u Usage) Cost {
	onDemand := u.ConsumedRCU/1e6*p.OnDemandUSDPerMillionRRU +
		u.ConsumedWCU/1e6*p.OnDemandUSDPerMillionWRU

	hours := u.Duration.Hours()
	perHour := float64(u.ProvisionedRCU)*p.ProvisionedUSDPerRCUHour +
		float64(u.ProvisionedWCU)*p.ProvisionedUSDPerWCUHour

	c := Cost{OnDemandUSD: onDemand, ProvisionedUSD: perHour * hours}
	if hours > 0 {
		c.OnDemandUSDPerHour = onDemand / hours
	}
	return c
}
