module drain-control/tests/reliability/goprobe

go 1.22

require github.com/hermes-agent/drain-control/go v0.0.0

replace github.com/hermes-agent/drain-control/go => ../../../go
