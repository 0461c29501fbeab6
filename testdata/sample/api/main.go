package main

import "example.org/sample/lib"

func main() { println(lib.Greeting()) }
