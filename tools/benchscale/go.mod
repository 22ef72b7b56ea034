module raftkv/tools/benchscale

go 1.19
