// Command gopoll measures draincontrol.Requested with testing.B, one benchmark per
// marker case, each next to the floor of benches/floor.c on the same marker (one cgo
// call running the floor's loop in C), the cases alternating over REPS rounds:
//
//	gopoll BUDGET_MS REPS NAME=DIR...
//
// prints "NAME ns", "floor:NAME ns" and "ratio:NAME r" for each case (medians over
// rounds; r is the median of the ratio within a round), and "ratio-cgo:NAME r", the
// ratio to the floor called through one cgo call per poll.
package main

// #include <stdlib.h>
// double drain_floor_poll_ns(const char *marker, long n);
import "C"

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

var sink bool

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: gopoll BUDGET_MS REPS NAME=DIR...")
		os.Exit(2)
	}
	budget, _ := strconv.ParseFloat(os.Args[1], 64)
	reps, _ := strconv.Atoi(os.Args[2])
	testing.Init()
	benchtime := time.Duration(budget * float64(time.Millisecond))
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		panic(err)
	}
	type benchCase struct{ name, dir string }
	var cases []benchCase
	for _, arg := range os.Args[3:] {
		name, dir, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "bad case %q (want NAME=DIR)\n", arg)
			os.Exit(2)
		}
		cases = append(cases, benchCase{name, dir})
	}
	bench := func(dir string) float64 {
		result := testing.Benchmark(func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				sink = draincontrol.Requested(dir)
			}
		})
		return float64(result.T.Nanoseconds()) / float64(result.N)
	}
	floor := func(dir string) float64 {
		marker := C.CString(dir + "/.drain_request.json")
		defer C.free(unsafe.Pointer(marker))
		n := C.long(64)
		for {
			took := float64(C.drain_floor_poll_ns(marker, n))
			if took >= budget*1e6 || n > 1<<40 {
				return took / float64(n)
			}
			n *= 2
		}
	}
	// The floor again, one cgo call per poll: what any Go caller of a C library pays
	// before the library does anything (the transition around a call that makes
	// system calls), shown beside the ratio to the floor looped in C.
	floorCgo := func(dir string) float64 {
		marker := C.CString(dir + "/.drain_request.json")
		defer C.free(unsafe.Pointer(marker))
		result := testing.Benchmark(func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				C.drain_floor_poll_ns(marker, 1)
			}
		})
		return float64(result.T.Nanoseconds()) / float64(result.N)
	}
	median := func(values []float64) float64 {
		sort.Float64s(values)
		return values[len(values)/2]
	}
	mine := make([][]float64, len(cases))
	floors := make([][]float64, len(cases))
	ratios := make([][]float64, len(cases))
	cgoRatios := make([][]float64, len(cases))
	for _, c := range cases { // warm-up
		floor(c.dir)
		bench(c.dir)
	}
	for r := 0; r < reps; r++ {
		for i, c := range cases {
			f := floor(c.dir)
			m := bench(c.dir)
			floors[i] = append(floors[i], f)
			mine[i] = append(mine[i], m)
			ratios[i] = append(ratios[i], m/f)
			cgoRatios[i] = append(cgoRatios[i], m/floorCgo(c.dir))
		}
	}
	for i, c := range cases {
		fmt.Printf("%s %.1f\nfloor:%s %.1f\nratio:%s %.4f\nratio-cgo:%s %.4f\n", c.name,
			median(mine[i]), c.name, median(floors[i]), c.name, median(ratios[i]),
			c.name, median(cgoRatios[i]))
	}
}
