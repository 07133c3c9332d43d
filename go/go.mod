module github.com/hermes-agent/drain-control/go

go 1.22
