module drain-control/go

go 1.22
