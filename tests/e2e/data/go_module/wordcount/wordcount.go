// Package wordcount counts words, sorted by count then word.
package wordcount

import (
	"sort"
	"strings"
)

type WordCount struct {
	Word string
	N    int
}

func Count(text string) []WordCount {
	m := map[string]int{}
	for _, w := range strings.Fields(text) {
		m[w]++
	}
	out := make([]WordCount, 0, len(m))
	for w, n := range m {
		out = append(out, WordCount{w, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Word < out[j].Word
	})
	return out
}
