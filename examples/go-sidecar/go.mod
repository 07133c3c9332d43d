module drain-control/examples/go-sidecar

go 1.22

require github.com/hermes-agent/drain-control/go v0.0.0

// The package lives in this repository; a copy elsewhere points this at its own checkout.
replace github.com/hermes-agent/drain-control/go => ../../go
