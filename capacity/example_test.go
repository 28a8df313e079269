package capacity_test

import (
	"fmt"
	"time"

	"github.com/abusesim/abusesim/capacity"
)

func ExampleReadUnits() {
	// A 6,000-byte item read eventually, strongly and in a transaction.
	for _, c := range []capacity.Consistency{capacity.Eventual, capacity.Strong, capacity.Transactional} {
		fmt.Println(c, capacity.ReadUnits(6000, c))
	}
	// Output:
	// eventual 1
	// strong 2
	// transactional 4
}

func ExamplePrices_Cost() {
	// Ten minutes of a scraper at 500 eventually consistent 4 KB reads a
	// second, on a table provisioned with 500 RCU and 50 WCU.
	cost := capacity.PricesUSEast1.Cost(capacity.Usage{
		ConsumedRCU:    500 * 0.5 * 600,
		ProvisionedRCU: 500,
		ProvisionedWCU: 50,
		Duration:       10 * time.Minute,
	})
	fmt.Printf("on demand $%.5f ($%.4f/hour), provisioned $%.5f\n",
		cost.OnDemandUSD, cost.OnDemandUSDPerHour, cost.ProvisionedUSD)
	// Output:
	// on demand $0.01875 ($0.1125/hour), provisioned $0.01625
}
