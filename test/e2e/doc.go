// Package e2e holds wxbridge's end-to-end tests: a real homeserver (Dendrite), wxsim, the
// built bridge and a scripted Matrix user talking only the client-server API. The tests
// carry the build tag "e2e" and need the environment that ./run sets up:
//
//	test/e2e/run            # build, start everything, run the tests, clean up
//	test/e2e/run --demo     # start everything and keep it running for any Matrix client
//
// The helper program cmd/e2ectl writes the configuration files of a run.
package e2e
