// Package bench is wxbridge's system benchmark: Dendrite, wxsim and the release build of
// the bridge on loopback, measured against baselines taken in the same run (a Matrix user
// sending straight to the homeserver). The benchmark carries the build tag "bench" and
// needs the environment that ./run sets up:
//
//	test/bench/run                 # full mode (the README's numbers)
//	BENCH_QUICK=1 test/bench/run   # small and fast, for CI (also when CI=true)
//
// See README.md for what is measured and how.
package bench
