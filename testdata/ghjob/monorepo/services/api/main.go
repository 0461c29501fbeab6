// Command api is a service of the fixture monorepo.
package main

import (
	"fmt"

	"example.com/greet"
)

func main() { fmt.Println(greet.Hello()) }
