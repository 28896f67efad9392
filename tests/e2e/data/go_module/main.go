// A small module for recording `go build` (a main package and one local
// package): the go tool runs compile and link as subprocesses.
package main

import (
	"fmt"
	"os"

	"example.com/wc/wordcount"
)

func main() {
	text := "the quick brown fox jumps over the lazy dog the end"
	if len(os.Args) > 1 {
		text = os.Args[1]
	}
	for _, wc := range wordcount.Count(text) {
		fmt.Printf("%s %d\n", wc.Word, wc.N)
	}
}
