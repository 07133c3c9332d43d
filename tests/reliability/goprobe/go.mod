module drain-control/tests/reliability/goprobe

go 1.22

require drain-control/go v0.0.0

replace drain-control/go => ../../../go
