// CPU-bound goroutines with no system call in their loops (a register-only
// LCG, then passes over a slice): the recorder preempts them inside hot
// loops, replay has to find those passes again. Usage: go_cpu GOROUTINES
// MILLIONS. Prints each goroutine's results, fixed by the arguments.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
)

//go:noinline
func lcg(x uint64, n int) uint64 {
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407 + uint64(i)
	}
	return x
}

func passes(a []uint64, n int) uint64 {
	var sum uint64
	for p := 0; p < n; p++ {
		for i := range a {
			a[i] = a[i]*31 + uint64(p) + sum
			sum += a[i] >> 7
		}
	}
	return sum
}

func main() {
	n, steps := 4, 100
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[1])
		steps, _ = strconv.Atoi(os.Args[2])
	}
	steps *= 1000000
	results := make([][2]uint64, n)
	var wg sync.WaitGroup
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			results[id][0] = lcg(uint64(id)+1, steps)
			a := make([]uint64, 4096)
			for i := range a {
				a[i] = uint64(i * (id + 3))
			}
			results[id][1] = passes(a, steps/(4096*4)+1)
		}(g)
	}
	wg.Wait()
	for g := 0; g < n; g++ {
		fmt.Printf("goroutine %d: %016x %016x\n", g, results[g][0], results[g][1])
	}
	fmt.Println("done")
}
