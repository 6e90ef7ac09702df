// Package chaos holds wxbridge's chaos test: the whole system (Dendrite, wxsim, the built
// bridge) with a scripted Matrix user, where the bridge is killed with SIGKILL at random
// moments of message bursts in both directions and the homeserver goes away for a while;
// per chat it counts what Matrix and WeChat (wxsim /sent) hold: lost, duplicated, out of
// order. The test carries the build tag "chaos" and needs the environment ./run sets up:
//
//	test/chaos/run                  # full: 20 trials × 500 + 100 messages, 60 s outage
//	CHAOS_QUICK=1 test/chaos/run    # quick (also with CI=true): 3 trials × 100 + 20, 10 s outage
package chaos
