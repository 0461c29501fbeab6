module example.org/sample/worker

go 1.21

require example.org/sample/lib v0.0.0

replace example.org/sample/lib => ../lib
