//go:build unix

package pin

import "syscall"

const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY
