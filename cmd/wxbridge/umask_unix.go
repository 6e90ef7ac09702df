//go:build unix

package main

import "syscall"

// The database, logs, config and registration hold WeChat session secrets and
// appservice tokens: nothing the bridge creates is for other users of the machine.
func init() { syscall.Umask(0o077) }
