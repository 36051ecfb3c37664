package app_test

import "runtime"

var testingProcs = runtime.GOMAXPROCS(0)
