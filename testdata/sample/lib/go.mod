module example.org/sample/lib

go 1.22
