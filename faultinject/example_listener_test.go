package faultinject_test

import (
	"fmt"
	"log"

	"github.com/resilience-go/grpc-resilience/faultinject"
)

func ExampleParseConnSpec() {
	// Refuse one connection in ten, hold one in five for 100ms, and cut
	// every connection after 4 KiB.
	f, err := faultinject.ParseConnSpec("refuse=10%, delay=100ms@20%, cut=4096")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("refuse %v%%, reset %v%%, delay %v for %v%%, cut after %d bytes for %v%%\n",
		f.Refuse, f.Reset, f.Delay, f.DelayPercent, f.CutAfter, f.CutPercent)
	fmt.Println(f) // the compact form again, for a flag's default or a log

	// A bad spec names the token at fault.
	_, err = faultinject.ParseConnSpec("refuse=10%,delay=abc@5%")
	fmt.Println(err)
	// Output:
	// refuse 10%, reset 0%, delay 100ms for 20%, cut after 4096 bytes for 100%
	// refuse=10%,delay=100ms@20%,cut=4096
	// faultinject: conn spec token 2 "delay=abc@5%": bad duration "abc"
}
