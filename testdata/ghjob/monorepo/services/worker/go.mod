module example.com/acme/worker

go 1.21

require (
	example.com/greet v1.0.0
	example.com/unused v1.0.0
)
