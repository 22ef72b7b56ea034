module raftkv/tools/bench

go 1.19
