module drain-control/benches/go

go 1.22

require drain-control/go v0.0.0

replace drain-control/go => ../../go
