module raftkv/tests/seeds/uidriver

go 1.19
