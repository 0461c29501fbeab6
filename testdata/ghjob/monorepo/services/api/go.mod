module example.com/acme/api

go 1.21

require example.com/greet v1.1.0
