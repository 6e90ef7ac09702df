// Package mautrixfix holds the bridge's workarounds for mautrix-go v0.32.0: things that
// version does, or leaves undone, that cost a bridge correctness or CPU. Each function
// says what it works around and why, so that it can be dropped when upstream changes; the
// tests fail when a new mautrix-go version makes one of them stop working.
//
// It must not import wxbridge's packages: every workaround is about mautrix-go alone.
// (The middleware that writes down the Matrix messages of a transaction before it is
// answered stays in bridge/pendingmatrix.go: it is the bridge's own crash safety.)
package mautrixfix
