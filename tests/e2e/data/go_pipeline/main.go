// Go runtime under rrx: goroutines (a channel pipeline, a sync.WaitGroup, a
// mutex-protected map) and net/http on a loopback listener (port 0), queried
// with a few GETs. Prints only deterministic text.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

func pipeline() {
	gen := make(chan int)
	sq := make(chan int, 4)
	go func() {
		for i := 1; i <= 100; i++ {
			gen <- i
		}
		close(gen)
	}()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range gen {
				sq <- x * x
			}
		}()
	}
	go func() { wg.Wait(); close(sq) }()
	sum := 0
	for v := range sq {
		sum += v
	}
	fmt.Println("pipeline: sum of squares 1..100 =", sum)
}

func counters() {
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				mu.Lock()
				counts[i%10]++
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	keys := make([]int, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	total := 0
	for _, k := range keys {
		total += counts[k]
	}
	fmt.Println("counters:", len(keys), "keys,", total, "increments, counts[3] =", counts[3])
}

func httpRoundTrips() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/square/", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Path[len("/square/"):])
		if err != nil {
			http.Error(w, "not a number", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d squared is %d", n, n*n)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	url := "http://" + ln.Addr().String() + "/square/"
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	results := make([]string, 5)
	var wg sync.WaitGroup
	for i, arg := range []string{"3", "12", "x", "40", "7"} {
		wg.Add(1)
		go func(i int, arg string) {
			defer wg.Done()
			resp, err := client.Get(url + arg)
			if err != nil {
				results[i] = "error: " + err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results[i] = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}(i, arg)
	}
	wg.Wait()
	for i, r := range results {
		fmt.Printf("http %d: %s\n", i, r)
	}
	return srv.Close()
}

func main() {
	pipeline()
	counters()
	if err := httpRoundTrips(); err != nil {
		fmt.Fprintln(os.Stderr, "http:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "stderr: done")
}
