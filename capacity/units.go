package capacity

import "fmt"

// Consistency is the read model a read is charged for. The zero value is
// Eventual, DynamoDB's default for GetItem, Query and Scan.
type Consistency int

const (
	// Eventual is an eventually consistent read: half a unit per 4 KB.
	Eventual Consistency = iota
	// Strong is a strongly consistent read (ConsistentRead true): one unit per 4 KB.
	Strong
	// Transactional is a read inside TransactGetItems: two units per 4 KB.
	Transactional
)

// String returns the consistency's name.
func (c Consistency) String() string {
	switch c {
	case Eventual:
		return "eventual"
	case Strong:
		return "strong"
	case Transactional:
		return "transactional"
	}
	return fmt.Sprintf("Consistency(%d)", int(c))
}

// Unit sizes, from "DynamoDB read and write operations" in the DynamoDB
// Developer Guide (read-write-operations.html): DynamoDB's KB is 1024 bytes.
const (
	// ReadUnitBytes is the item size one read unit covers.
	ReadUnitBytes = 4096
	// WriteUnitBytes is the item size one write unit covers.
	WriteUnitBytes = 1024
)

// ReadUnits returns the read units (RCU, or RRU on demand) for reading
// itemBytes: the size rounded up to the next 4 KB, one unit per 4 KB for a
// strong read, half for an eventual one, two for a transactional one. A read
// that finds nothing (itemBytes 0) still costs one 4 KB step.
//
// Query and Scan pass the sum of the item sizes they read, so the total is
// rounded once; batch reads call ReadUnits per item.
func ReadUnits(itemBytes int, consistency Consistency) float64 {
	units := float64(ceilDiv(itemBytes, ReadUnitBytes))
	switch consistency {
	case Eventual:
		return units / 2
	case Transactional:
		return units * 2
	}
	return units
}

// WriteUnits returns the write units (WCU, or WRU on demand) for writing
// itemBytes: one unit per 1 KB, rounded up, at least one.
func WriteUnits(itemBytes int) float64 {
	return float64(ceilDiv(itemBytes, WriteUnitBytes))
}

// TransactionalWriteUnits returns the write units for writing itemBytes
// inside TransactWriteItems: twice WriteUnits.
func TransactionalWriteUnits(itemBytes int) float64 {
	return 2 * WriteUnits(itemBytes)
}

// ceilDiv divides n by d rounding up, and never returns less than 1.
func ceilDiv(n, d int) int {
	if n <= 0 {
		return 1
	}
	return (n + d - 1) / d
}
