module example.com/acme/util

go 1.21
