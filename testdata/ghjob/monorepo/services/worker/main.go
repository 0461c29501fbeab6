// Command worker is a service of the fixture monorepo. Its go.mod is
// untidy (it requires example.com/unused, which nothing imports) and
// requires an older example.com/greet than services/api.
package main

import (
	"fmt"

	"example.com/greet"
)

func main() { fmt.Println(greet.Hello()) }
