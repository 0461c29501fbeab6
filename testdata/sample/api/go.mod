module example.org/sample/api

go 1.22

require example.org/sample/lib v0.0.0

replace example.org/sample/lib => ../lib
